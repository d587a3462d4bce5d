import RivetISA
import RivetMachine

// The dispatch loop. Everything it touches is a raw pointer held in a local: registers (`r`),
// guest memory (`mem`), the page-permission table (`perms`) and the block table. No class
// property is mutated and no array is written inside the loop, so there is no exclusivity check,
// retain or uniqueness check on the hot path (../shared/SWIFT-PERFORMANCE.md).

/// Slot indices, as literals so that no cross-module accessor sits in the loop.
enum Slot {
    static let pc = 65
    static let instret = 68
    static let attention = 98
}

/// The guest address space size, as a literal for the same reason; `Interpreter.init` checks
/// that it matches `GuestMemory.addressSpaceSize`.
#if RIVET_CALLGRIND
let addressSpaceSize: UInt64 = 1 << 34
#else
let addressSpaceSize: UInt64 = 1 << 38
#endif

@inline(__always) private func sx(_ v: Int32) -> UInt64 { UInt64(bitPattern: Int64(v)) }
@inline(__always) private func sx32(_ v: UInt64) -> UInt64 {
    UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: v)))
}
@inline(__always) private func zx32(_ v: UInt64) -> UInt64 { v & 0xffff_ffff }
/// `v` rotated left by `n` modulo its width (right by `n` is left by `0 &- n`).
@inline(__always) private func rotateLeft<T: FixedWidthInteger & UnsignedInteger>(_ v: T, _ n: UInt64) -> T {
    let k = T(truncatingIfNeeded: n) & T(T.bitWidth - 1)
    return v &<< k | v &>> (T(T.bitWidth) &- k)
}
/// `orc.b`: each byte of `v` becomes 0xff if it is nonzero, else stays 0.
@inline(__always) private func orCombineBytes(_ v: UInt64) -> UInt64 {
    let low7: UInt64 = 0x7f7f_7f7f_7f7f_7f7f
    // A byte's top bit ends up set iff the byte is nonzero (the sum never carries out of it).
    let nonzero = (((v & low7) &+ low7) | v) & ~low7
    return (nonzero &>> 7) &* 0xff
}
@inline(__always) private func unbox(_ v: UInt64) -> UInt32 {
    v >> 32 == 0xffff_ffff ? UInt32(truncatingIfNeeded: v) : SoftFloat.canonicalNaN32
}
@inline(__always) private func box(_ v: UInt32) -> UInt64 { 0xffff_ffff_0000_0000 | UInt64(v) }

/// Whether an access of `size` bytes at `a` stays in one readable page.
@inline(__always) private func readable(_ perms: UnsafeMutablePointer<UInt8>, _ a: UInt64, _ size: UInt64) -> Bool {
    a < addressSpaceSize && perms[Int(truncatingIfNeeded: a >> 12)] & 1 != 0
        && (a & 0xfff) &+ size <= 0x1000
}

/// Whether a store of `size` bytes at `a` stays in one writable page that holds no decoded code.
@inline(__always) private func writable(_ perms: UnsafeMutablePointer<UInt8>, _ a: UInt64, _ size: UInt64) -> Bool {
    a < addressSpaceSize && perms[Int(truncatingIfNeeded: a >> 12)] & 0x0a == 0x02
        && (a & 0xfff) &+ size <= 0x1000
}

extension UnsafeMutablePointer where Pointee == Inst {
    @inline(__always) var rd: Int { Int(truncatingIfNeeded: pointee.rd) }
    @inline(__always) var rs1: Int { Int(truncatingIfNeeded: pointee.rs1) }
    @inline(__always) var rs2: Int { Int(truncatingIfNeeded: pointee.rs2) }
    /// The immediate, sign-extended.
    @inline(__always) var simm: UInt64 { UInt64(bitPattern: Int64(pointee.imm)) }
    /// An offset from the block's start held in `rs1` and `rs2` (`BlockDecoder.decode`: the
    /// link address of `jal`, the place of `auipc`).
    @inline(__always) var offset16: UInt64 { UInt64(pointee.rs1) | UInt64(pointee.rs2) << 8 }
    /// A taken conditional branch of `block`: gives back to the budget the block's
    /// instructions it passes over, and returns the instruction it goes to in the block — its
    /// target further on, or the block's start as a new entry when the budget and the tier-up
    /// countdown allow — or nil when it leaves the block through the outer loop.
    @inline(__always) func takenBranch(_ block: Block, _ remaining: inout UInt64) -> UnsafeMutablePointer<Inst>? {
        let passed = pointee.rd & ~Inst.staysInBlock
        remaining &+= UInt64(passed)
        block.pointee.skipped &+= UInt32(passed)
        guard pointee.rd & Inst.staysInBlock != 0 else { return nil }
        if pointee.imm != 0 { return self + Int(truncatingIfNeeded: pointee.imm) }
        guard remaining >= UInt64(BlockDecoder.maxInstructions), block.pointee.countdown > 0 else { return nil }
        block.pointee.countdown &-= 1
        block.pointee.executions &+= 1
        remaining &-= UInt64(block.pointee.count)
        return block.instructions
    }
}

extension Interpreter {
    /// Runs the hart until it stops, executing at most `budget` instructions; with
    /// `stopsForTierUp` false, never for `StopReason.tierUp` (the engine's last instructions of
    /// a run, too few to enter the translation there).
    public func run(budget: UInt64, stopsForTierUp: Bool = true) -> StopReason {
        let r = hart.slots
        let mem = memory.base
        let perms = memory.pagePermissions
        let table = cache.table
        let trace = singleStep
        // Bit 0 of the pc is never set (`HartState.pc`); an odd pc would also meet the block
        // table's empty marker.
        var pc = r[Slot.pc] & ~1
        // `instret` is kept here, as what the budget lost: `r[Slot.instret]` is written back on
        // the way out and before anything that reads it.
        var remaining = budget
        let instretAtStart = r[Slot.instret]
        // A block from the table runs only if it cannot overrun the budget, and never in
        // single-step mode (blocks are one instruction long there).
        let fastPathAbove = trace ? UInt64.max : UInt64(BlockDecoder.maxInstructions) - 1
        // A block decoded for this run only (shortened to the budget, or for single-stepping):
        // freed at the next block found outside the table, or on the way out.
        var temporary: Block? = nil
        // Blocks are dropped only on paths that leave the loop or pass through `collect` below.
        cache.collect()
        defer {
            if let temporary { UnsafeMutableRawPointer(temporary).deallocate() }
            r[Slot.pc] = pc
            r[Slot.instret] = instretAtStart &+ (budget &- remaining)
        }

        // The cached block run last (nil after a `collect`, which may have freed it, and for a
        // temporary block), and the cache's epoch when it was found.
        var previous: Block? = nil
        let epoch = cache.epoch

        outer: while true {
            // Find the block: where the last block left to last time (no table look-up: on code
            // with thousands of warm blocks the table misses and the block map's look-up misses
            // the processor's caches), else the table, else the block map or a decode.
            let block: Block
            let guess = previous
            if let guess, guess.pointee.nextPC == pc, guess.pointee.nextEpoch == epoch.pointee, remaining > fastPathAbove,
                r[Slot.attention] == 0
            {
                block = guess.pointee.next.unsafelyUnwrapped
            } else {
                let before = epoch.pointee
                let entry = table[BlockCache.slot(pc)]
                if entry.pc == pc, remaining > fastPathAbove {
                    block = entry.block.unsafelyUnwrapped
                } else {
                    if let block = temporary {
                        UnsafeMutableRawPointer(block).deallocate()
                        temporary = nil
                    }
                    if remaining == 0 { return .budgetExhausted }
                    // Host code faulted on guest memory in the block just run (a file shrank
                    // under a mapping): the access completed, and the guest gets the fault here,
                    // at the next block — the fault handler sets the attention bits (the guess
                    // above looks at them) and empties the block table, so that the next lookup
                    // comes this way. Or another thread wants the hart to stop (it waits at most
                    // for the run's budget slice, which is short whenever that can happen).
                    if r[Slot.attention] != 0 {
                        if let fault = memory.settleHostFaults(r) { return .fault(fault) }
                        if r[Slot.attention] != 0 { return .interrupted }
                    }
                    do {
                        let found = try self.block(at: pc, limit: remaining)
                        block = found.0
                        if !found.cached { temporary = block }
                    } catch {
                        switch error {
                        case .fault(let fault): return .fault(fault)
                        }
                    }
                    if trace {
                        r[Slot.pc] = pc
                        r[Slot.instret] = instretAtStart &+ (budget &- remaining)
                        if let stopBefore, stopBefore(pc) { return .interrupted }
                        if let traceHook { traceHook(hart) }
                    }
                }
                // Remembered in the block left, unless a block left the cache meanwhile (a
                // decode's eviction may have freed the one left) or this one lives for this run
                // only.
                if let guess, epoch.pointee == before, block != temporary {
                    guess.pointee.nextPC = pc
                    guess.pointee.next = block
                    guess.pointee.nextEpoch = before
                }
            }
            previous = block == temporary ? nil : block

            block.pointee.countdown &-= 1
            if block.pointee.countdown < 0 {
                block.pointee.countdown = 0
                if stopsForTierUp { return .tierUp }
            }
            let count = UInt64(block.pointee.count)
            remaining &-= count
            block.pointee.executions &+= 1
            let base = block.pointee.pc
            let first = block.instructions
            var ip = first
            var stop: StopReason? = nil

            inner: while true {
                // Fields are read through the pointer in each case, so a case loads only the
                // operands it uses.
                let i = ip
                switch i.pointee.op {
                // MARK: Control transfer
                case .jal:
                    r[i.rd] = base &+ i.offset16
                    pc = base &+ i.simm
                    continue outer
                case .jalr:
                    let immediate = UInt64(bitPattern: Int64(Int16(truncatingIfNeeded: i.pointee.imm)))
                    let target = (r[i.rs1] &+ immediate) & ~1
                    r[i.rd] = base &+ UInt64(UInt32(bitPattern: i.pointee.imm) >> 16)
                    pc = target
                    continue outer
                // A taken branch goes on inside the block (forward, or round to its start as a
                // new entry) or leaves it (`takenBranch`).
                case .beq:
                    if r[i.rs1] == r[i.rs2] {
                        if let next = i.takenBranch(block, &remaining) { ip = next; continue inner }
                        pc = base &+ i.simm; continue outer
                    }
                case .bne:
                    if r[i.rs1] != r[i.rs2] {
                        if let next = i.takenBranch(block, &remaining) { ip = next; continue inner }
                        pc = base &+ i.simm; continue outer
                    }
                case .blt:
                    if Int64(bitPattern: r[i.rs1]) < Int64(bitPattern: r[i.rs2]) {
                        if let next = i.takenBranch(block, &remaining) { ip = next; continue inner }
                        pc = base &+ i.simm; continue outer
                    }
                case .bge:
                    if Int64(bitPattern: r[i.rs1]) >= Int64(bitPattern: r[i.rs2]) {
                        if let next = i.takenBranch(block, &remaining) { ip = next; continue inner }
                        pc = base &+ i.simm; continue outer
                    }
                case .bltu:
                    if r[i.rs1] < r[i.rs2] {
                        if let next = i.takenBranch(block, &remaining) { ip = next; continue inner }
                        pc = base &+ i.simm; continue outer
                    }
                case .bgeu:
                    if r[i.rs1] >= r[i.rs2] {
                        if let next = i.takenBranch(block, &remaining) { ip = next; continue inner }
                        pc = base &+ i.simm; continue outer
                    }

                // MARK: Integer register-immediate
                case .lui: r[i.rd] = i.simm
                case .auipc: r[i.rd] = base &+ i.offset16 &+ i.simm
                case .addi: r[i.rd] = r[i.rs1] &+ i.simm
                case .slti: r[i.rd] = Int64(bitPattern: r[i.rs1]) < Int64(i.pointee.imm) ? 1 : 0
                case .sltiu: r[i.rd] = r[i.rs1] < i.simm ? 1 : 0
                case .xori: r[i.rd] = r[i.rs1] ^ i.simm
                case .ori: r[i.rd] = r[i.rs1] | i.simm
                case .andi: r[i.rd] = r[i.rs1] & i.simm
                case .slli: r[i.rd] = r[i.rs1] &<< i.simm
                case .srli: r[i.rd] = r[i.rs1] &>> i.simm
                case .srai: r[i.rd] = UInt64(bitPattern: Int64(bitPattern: r[i.rs1]) &>> Int64(i.pointee.imm))
                case .addiw: r[i.rd] = sx32(r[i.rs1] &+ i.simm)
                case .slliw: r[i.rd] = sx32(r[i.rs1] &<< i.simm)
                case .srliw: r[i.rd] = sx32(UInt64(UInt32(truncatingIfNeeded: r[i.rs1]) &>> UInt32(i.pointee.imm)))
                case .sraiw:
                    r[i.rd] = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: r[i.rs1]) &>> i.pointee.imm))

                // MARK: Integer register-register
                case .add: r[i.rd] = r[i.rs1] &+ r[i.rs2]
                case .sub: r[i.rd] = r[i.rs1] &- r[i.rs2]
                case .sll: r[i.rd] = r[i.rs1] &<< r[i.rs2]
                case .slt: r[i.rd] = Int64(bitPattern: r[i.rs1]) < Int64(bitPattern: r[i.rs2]) ? 1 : 0
                case .sltu: r[i.rd] = r[i.rs1] < r[i.rs2] ? 1 : 0
                case .xor: r[i.rd] = r[i.rs1] ^ r[i.rs2]
                case .srl: r[i.rd] = r[i.rs1] &>> r[i.rs2]
                case .sra: r[i.rd] = UInt64(bitPattern: Int64(bitPattern: r[i.rs1]) &>> Int64(bitPattern: r[i.rs2]))
                case .or: r[i.rd] = r[i.rs1] | r[i.rs2]
                case .and: r[i.rd] = r[i.rs1] & r[i.rs2]
                case .addw: r[i.rd] = sx32(r[i.rs1] &+ r[i.rs2])
                case .subw: r[i.rd] = sx32(r[i.rs1] &- r[i.rs2])
                case .sllw: r[i.rd] = sx32(r[i.rs1] &<< (r[i.rs2] & 31))
                case .srlw: r[i.rd] = sx32(UInt64(UInt32(truncatingIfNeeded: r[i.rs1]) &>> UInt32(truncatingIfNeeded: r[i.rs2])))
                case .sraw:
                    r[i.rd] = UInt64(
                        bitPattern: Int64(Int32(truncatingIfNeeded: r[i.rs1]) &>> Int32(truncatingIfNeeded: r[i.rs2])))

                // MARK: M
                case .mul: r[i.rd] = r[i.rs1] &* r[i.rs2]
                case .mulh:
                    r[i.rd] = UInt64(bitPattern: Int64(bitPattern: r[i.rs1]).multipliedFullWidth(by: Int64(bitPattern: r[i.rs2])).high)
                case .mulhsu:
                    let a = r[i.rs1]
                    let b = r[i.rs2]
                    var high = a.multipliedFullWidth(by: b).high
                    if Int64(bitPattern: a) < 0 { high &-= b }
                    r[i.rd] = high
                case .mulhu: r[i.rd] = r[i.rs1].multipliedFullWidth(by: r[i.rs2]).high
                case .div:
                    let a = Int64(bitPattern: r[i.rs1])
                    let b = Int64(bitPattern: r[i.rs2])
                    r[i.rd] = b == 0 ? UInt64.max : UInt64(bitPattern: (a == .min && b == -1) ? a : a / b)
                case .divu:
                    let b = r[i.rs2]
                    r[i.rd] = b == 0 ? UInt64.max : r[i.rs1] / b
                case .rem:
                    let a = Int64(bitPattern: r[i.rs1])
                    let b = Int64(bitPattern: r[i.rs2])
                    r[i.rd] = b == 0 ? UInt64(bitPattern: a) : UInt64(bitPattern: (a == .min && b == -1) ? 0 : a % b)
                case .remu:
                    let b = r[i.rs2]
                    r[i.rd] = b == 0 ? r[i.rs1] : r[i.rs1] % b
                case .mulw: r[i.rd] = sx32(r[i.rs1] &* r[i.rs2])
                case .divw:
                    let a = Int32(truncatingIfNeeded: r[i.rs1])
                    let b = Int32(truncatingIfNeeded: r[i.rs2])
                    let q: Int32 = b == 0 ? -1 : (a == .min && b == -1) ? a : a / b
                    r[i.rd] = UInt64(bitPattern: Int64(q))
                case .divuw:
                    let a = UInt32(truncatingIfNeeded: r[i.rs1])
                    let b = UInt32(truncatingIfNeeded: r[i.rs2])
                    r[i.rd] = sx32(UInt64(b == 0 ? UInt32.max : a / b))
                case .remw:
                    let a = Int32(truncatingIfNeeded: r[i.rs1])
                    let b = Int32(truncatingIfNeeded: r[i.rs2])
                    let m: Int32 = b == 0 ? a : (a == .min && b == -1) ? 0 : a % b
                    r[i.rd] = UInt64(bitPattern: Int64(m))
                case .remuw:
                    let a = UInt32(truncatingIfNeeded: r[i.rs1])
                    let b = UInt32(truncatingIfNeeded: r[i.rs2])
                    r[i.rd] = sx32(UInt64(b == 0 ? a : a % b))

                // MARK: Zba
                case .sh1add: r[i.rd] = r[i.rs2] &+ (r[i.rs1] &<< 1)
                case .sh2add: r[i.rd] = r[i.rs2] &+ (r[i.rs1] &<< 2)
                case .sh3add: r[i.rd] = r[i.rs2] &+ (r[i.rs1] &<< 3)
                case .add_uw: r[i.rd] = r[i.rs2] &+ zx32(r[i.rs1])
                case .sh1add_uw: r[i.rd] = r[i.rs2] &+ (zx32(r[i.rs1]) &<< 1)
                case .sh2add_uw: r[i.rd] = r[i.rs2] &+ (zx32(r[i.rs1]) &<< 2)
                case .sh3add_uw: r[i.rd] = r[i.rs2] &+ (zx32(r[i.rs1]) &<< 3)
                case .slli_uw: r[i.rd] = zx32(r[i.rs1]) &<< i.simm

                // MARK: Zbb
                case .andn: r[i.rd] = r[i.rs1] & ~r[i.rs2]
                case .orn: r[i.rd] = r[i.rs1] | ~r[i.rs2]
                case .xnor: r[i.rd] = ~(r[i.rs1] ^ r[i.rs2])
                case .clz: r[i.rd] = UInt64(truncatingIfNeeded: r[i.rs1].leadingZeroBitCount)
                case .clzw:
                    r[i.rd] = UInt64(truncatingIfNeeded: UInt32(truncatingIfNeeded: r[i.rs1]).leadingZeroBitCount)
                case .ctz: r[i.rd] = UInt64(truncatingIfNeeded: r[i.rs1].trailingZeroBitCount)
                case .ctzw:
                    r[i.rd] = UInt64(truncatingIfNeeded: UInt32(truncatingIfNeeded: r[i.rs1]).trailingZeroBitCount)
                case .cpop: r[i.rd] = UInt64(truncatingIfNeeded: r[i.rs1].nonzeroBitCount)
                case .cpopw:
                    r[i.rd] = UInt64(truncatingIfNeeded: UInt32(truncatingIfNeeded: r[i.rs1]).nonzeroBitCount)
                case .max:
                    let a = r[i.rs1]
                    let b = r[i.rs2]
                    r[i.rd] = Int64(bitPattern: a) > Int64(bitPattern: b) ? a : b
                case .maxu: r[i.rd] = Swift.max(r[i.rs1], r[i.rs2])
                case .min:
                    let a = r[i.rs1]
                    let b = r[i.rs2]
                    r[i.rd] = Int64(bitPattern: a) < Int64(bitPattern: b) ? a : b
                case .minu: r[i.rd] = Swift.min(r[i.rs1], r[i.rs2])
                case .sext_b: r[i.rd] = sx8(r[i.rs1])
                case .sext_h: r[i.rd] = sx16(r[i.rs1])
                case .zext_h: r[i.rd] = r[i.rs1] & 0xffff
                case .rol: r[i.rd] = rotateLeft(r[i.rs1], r[i.rs2])
                case .ror: r[i.rd] = rotateLeft(r[i.rs1], 0 &- r[i.rs2])
                case .rori: r[i.rd] = rotateLeft(r[i.rs1], 0 &- i.simm)
                case .rolw: r[i.rd] = sx32(UInt64(rotateLeft(UInt32(truncatingIfNeeded: r[i.rs1]), r[i.rs2])))
                case .rorw: r[i.rd] = sx32(UInt64(rotateLeft(UInt32(truncatingIfNeeded: r[i.rs1]), 0 &- r[i.rs2])))
                case .roriw: r[i.rd] = sx32(UInt64(rotateLeft(UInt32(truncatingIfNeeded: r[i.rs1]), 0 &- i.simm)))
                case .orc_b: r[i.rd] = orCombineBytes(r[i.rs1])
                case .rev8: r[i.rd] = r[i.rs1].byteSwapped

                // MARK: Zbs
                case .bclr: r[i.rd] = r[i.rs1] & ~(1 &<< r[i.rs2])
                case .bclri: r[i.rd] = r[i.rs1] & ~(1 &<< i.simm)
                case .bext: r[i.rd] = (r[i.rs1] &>> r[i.rs2]) & 1
                case .bexti: r[i.rd] = (r[i.rs1] &>> i.simm) & 1
                case .binv: r[i.rd] = r[i.rs1] ^ (1 &<< r[i.rs2])
                case .binvi: r[i.rd] = r[i.rs1] ^ (1 &<< i.simm)
                case .bset: r[i.rd] = r[i.rs1] | (1 &<< r[i.rs2])
                case .bseti: r[i.rd] = r[i.rs1] | (1 &<< i.simm)

                // MARK: Zicond
                case .czero_eqz: r[i.rd] = r[i.rs2] == 0 ? 0 : r[i.rs1]
                case .czero_nez: r[i.rd] = r[i.rs2] != 0 ? 0 : r[i.rs1]

                // MARK: Loads
                case .lb:
                    let a = r[i.rs1] &+ i.simm
                    if readable(perms, a, 1) {
                        r[i.rd] = UInt64(bitPattern: Int64(mem.load(fromByteOffset: Int(a), as: Int8.self)))
                    } else {
                        do throws(GuestFault) { r[i.rd] = sx8(try slowLoad(a, 1)) } catch { stop = .fault(error); break inner }
                    }
                case .lh:
                    let a = r[i.rs1] &+ i.simm
                    if readable(perms, a, 2) {
                        r[i.rd] = UInt64(bitPattern: Int64(mem.loadUnaligned(fromByteOffset: Int(a), as: Int16.self)))
                    } else {
                        do throws(GuestFault) { r[i.rd] = sx16(try slowLoad(a, 2)) } catch { stop = .fault(error); break inner }
                    }
                case .lw:
                    let a = r[i.rs1] &+ i.simm
                    if readable(perms, a, 4) {
                        r[i.rd] = UInt64(bitPattern: Int64(mem.loadUnaligned(fromByteOffset: Int(a), as: Int32.self)))
                    } else {
                        do throws(GuestFault) { r[i.rd] = sx32(try slowLoad(a, 4)) } catch { stop = .fault(error); break inner }
                    }
                case .ld:
                    let a = r[i.rs1] &+ i.simm
                    if readable(perms, a, 8) {
                        r[i.rd] = mem.loadUnaligned(fromByteOffset: Int(a), as: UInt64.self)
                    } else {
                        do throws(GuestFault) { r[i.rd] = try slowLoad(a, 8) } catch { stop = .fault(error); break inner }
                    }
                case .lbu:
                    let a = r[i.rs1] &+ i.simm
                    if readable(perms, a, 1) {
                        r[i.rd] = UInt64(mem.load(fromByteOffset: Int(a), as: UInt8.self))
                    } else {
                        do throws(GuestFault) { r[i.rd] = try slowLoad(a, 1) } catch { stop = .fault(error); break inner }
                    }
                case .lhu:
                    let a = r[i.rs1] &+ i.simm
                    if readable(perms, a, 2) {
                        r[i.rd] = UInt64(mem.loadUnaligned(fromByteOffset: Int(a), as: UInt16.self))
                    } else {
                        do throws(GuestFault) { r[i.rd] = try slowLoad(a, 2) } catch { stop = .fault(error); break inner }
                    }
                case .lwu:
                    let a = r[i.rs1] &+ i.simm
                    if readable(perms, a, 4) {
                        r[i.rd] = UInt64(mem.loadUnaligned(fromByteOffset: Int(a), as: UInt32.self))
                    } else {
                        do throws(GuestFault) { r[i.rd] = try slowLoad(a, 4) } catch { stop = .fault(error); break inner }
                    }
                case .flw:
                    let a = r[i.rs1] &+ i.simm
                    if readable(perms, a, 4) {
                        r[i.rd] = box(mem.loadUnaligned(fromByteOffset: Int(a), as: UInt32.self))
                    } else {
                        do throws(GuestFault) { r[i.rd] = box(UInt32(truncatingIfNeeded: try slowLoad(a, 4))) } catch {
                            stop = .fault(error); break inner
                        }
                    }
                case .fld:
                    let a = r[i.rs1] &+ i.simm
                    if readable(perms, a, 8) {
                        r[i.rd] = mem.loadUnaligned(fromByteOffset: Int(a), as: UInt64.self)
                    } else {
                        do throws(GuestFault) { r[i.rd] = try slowLoad(a, 8) } catch { stop = .fault(error); break inner }
                    }

                // MARK: Stores
                case .sb:
                    let a = r[i.rs1] &+ i.simm
                    if writable(perms, a, 1) {
                        mem.storeBytes(of: UInt8(truncatingIfNeeded: r[i.rs2]), toByteOffset: Int(a), as: UInt8.self)
                    } else {
                        do throws(GuestFault) { try slowStore(a, 1, r[i.rs2]) } catch { stop = .fault(error); break inner }
                        if cache.droppedSinceCheck { cache.droppedSinceCheck = false; break inner }
                    }
                case .sh:
                    let a = r[i.rs1] &+ i.simm
                    if writable(perms, a, 2) {
                        mem.storeBytes(of: UInt16(truncatingIfNeeded: r[i.rs2]), toByteOffset: Int(a), as: UInt16.self)
                    } else {
                        do throws(GuestFault) { try slowStore(a, 2, r[i.rs2]) } catch { stop = .fault(error); break inner }
                        if cache.droppedSinceCheck { cache.droppedSinceCheck = false; break inner }
                    }
                case .sw, .fsw:
                    let a = r[i.rs1] &+ i.simm
                    if writable(perms, a, 4) {
                        mem.storeBytes(of: UInt32(truncatingIfNeeded: r[i.rs2]), toByteOffset: Int(a), as: UInt32.self)
                    } else {
                        do throws(GuestFault) { try slowStore(a, 4, r[i.rs2]) } catch { stop = .fault(error); break inner }
                        if cache.droppedSinceCheck { cache.droppedSinceCheck = false; break inner }
                    }
                case .sd, .fsd:
                    let a = r[i.rs1] &+ i.simm
                    if writable(perms, a, 8) {
                        mem.storeBytes(of: r[i.rs2], toByteOffset: Int(a), as: UInt64.self)
                    } else {
                        do throws(GuestFault) { try slowStore(a, 8, r[i.rs2]) } catch { stop = .fault(error); break inner }
                        if cache.droppedSinceCheck { cache.droppedSinceCheck = false; break inner }
                    }

                // MARK: System
                case .fence:
                    // x86-64 keeps every order but stores before later loads (TSO); guest
                    // threads run on host threads, so that one needs a host barrier.
                    if FenceOrdering(bits: Int64(i.pointee.imm)).ordersStoresBeforeLoads { GuestMemory.fullBarrier() }
                case .fence_i:
                    // The next pc first: collecting frees this block, and `i` points into it.
                    let (offset, length) = block.position(ip - first)
                    pc = base &+ offset &+ length
                    memory.synchronizeInstructionFetch()
                    applyPendingCodeChanges()
                    cache.droppedSinceCheck = false
                    cache.collect()
                    previous = nil
                    continue outer
                case .ecall:
                    pc = base &+ block.position(ip - first).offset
                    return .ecall
                case .ebreak:
                    stop = .breakpoint
                    break inner
                case .illegal:
                    stop = illegal(block, ip - first)
                    break inner
                case .csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci:
                    let unretired = count &- UInt64(truncatingIfNeeded: ip - first)
                    r[Slot.instret] = instretAtStart &+ (budget &- remaining)
                    if !csr(i, unretired: unretired) {
                        stop = illegal(block, ip - first)
                        break inner
                    }

                // MARK: Zicbom, Zicboz
                case .cbo_clean, .cbo_flush, .cbo_zero:
                    if let failure = cacheBlock(i) {
                        stop = failure
                        break inner
                    }
                    if cache.droppedSinceCheck { cache.droppedSinceCheck = false; break inner }
                case .cbo_inval:
                    // Linux leaves senvcfg.CBIE clear: user mode may not invalidate.
                    stop = illegal(block, ip - first)
                    break inner

                // MARK: A
                case .lr_w, .sc_w, .amoswap_w, .amoadd_w, .amoxor_w, .amoand_w, .amoor_w, .amomin_w,
                    .amomax_w, .amominu_w, .amomaxu_w, .lr_d, .sc_d, .amoswap_d, .amoadd_d, .amoxor_d,
                    .amoand_d, .amoor_d, .amomin_d, .amomax_d, .amominu_d, .amomaxu_d:
                    if let failure = atomic(i) {
                        stop = failure
                        break inner
                    }
                    if cache.droppedSinceCheck { cache.droppedSinceCheck = false; break inner }

                // MARK: F, D and Zfa
                case .fmadd_s, .fmsub_s, .fnmsub_s, .fnmadd_s, .fadd_s, .fsub_s, .fmul_s, .fdiv_s,
                    .fsqrt_s, .fsgnj_s, .fsgnjn_s, .fsgnjx_s, .fmin_s, .fmax_s, .fcvt_w_s, .fcvt_wu_s,
                    .fcvt_l_s, .fcvt_lu_s, .fmv_x_w, .fclass_s, .feq_s, .flt_s, .fle_s, .fcvt_s_w,
                    .fcvt_s_wu, .fcvt_s_l, .fcvt_s_lu, .fmv_w_x, .fmadd_d, .fmsub_d, .fnmsub_d,
                    .fnmadd_d, .fadd_d, .fsub_d, .fmul_d, .fdiv_d, .fsqrt_d, .fsgnj_d, .fsgnjn_d,
                    .fsgnjx_d, .fmin_d, .fmax_d, .fcvt_s_d, .fcvt_d_s, .feq_d, .flt_d, .fle_d, .fclass_d,
                    .fcvt_w_d, .fcvt_wu_d, .fcvt_l_d, .fcvt_lu_d, .fmv_x_d, .fcvt_d_w, .fcvt_d_wu,
                    .fcvt_d_l, .fcvt_d_lu, .fmv_d_x, .fli_s, .fminm_s, .fmaxm_s, .fround_s, .froundnx_s,
                    .fleq_s, .fltq_s, .fli_d, .fminm_d, .fmaxm_d, .fround_d, .froundnx_d, .fleq_d, .fltq_d,
                    .fcvtmod_w_d:
                    if !Self.float(i, r) {
                        stop = illegal(block, ip - first)
                        break inner
                    }
                }
                ip += 1
            }

            // Left the block before its end: `ip` is the instruction that stopped it.
            let index = UInt64(truncatingIfNeeded: ip - first)
            let (offset, length) = block.position(Int(truncatingIfNeeded: index))
            if let stop {
                // The instruction did not retire.
                let unretired = count &- index
                remaining &+= unretired
                pc = base &+ offset
                return stop
            }
            // A store changed decoded code: it retired; resume after it with fresh blocks.
            cache.collect()
            previous = nil
            let unretired = count &- index &- 1
            remaining &+= unretired
            pc = base &+ offset &+ length
        }
    }

    @inline(__always) private func sx8(_ v: UInt64) -> UInt64 { UInt64(bitPattern: Int64(Int8(truncatingIfNeeded: v))) }
    @inline(__always) private func sx16(_ v: UInt64) -> UInt64 { UInt64(bitPattern: Int64(Int16(truncatingIfNeeded: v))) }

    /// A load that crosses a page or faults.
    @inline(never)
    func slowLoad(_ address: UInt64, _ size: Int) throws(GuestFault) -> UInt64 {
        let buffer = try memory.hostBuffer(at: address, size: size, access: .read)
        var value: UInt64 = 0
        for k in 0..<size { value |= UInt64(buffer[k]) << (8 * UInt64(k)) }
        return value
    }

    /// A store that crosses a page, hits a page holding decoded code, or faults.
    @inline(never)
    func slowStore(_ address: UInt64, _ size: Int, _ value: UInt64) throws(GuestFault) {
        let buffer = try memory.hostBuffer(at: address, size: size, access: .write)
        for k in 0..<size { buffer[k] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(k))) }
    }

    /// The illegal instruction `index` of `block`, as a stop.
    func illegal(_ block: Block, _ index: Int) -> StopReason {
        let (offset, length) = block.position(index)
        return .illegalInstruction(raw: fetchRaw(block.pointee.pc &+ offset), length: UInt8(length))
    }

    /// The raw bits of the instruction at `pc`, for error reports.
    func fetchRaw(_ pc: UInt64) -> UInt32 {
        switch memory.instruction(at: pc) {
        case .success(let inst): inst.raw
        case .failure: 0
        }
    }
}
