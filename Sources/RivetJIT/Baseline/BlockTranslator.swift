import RivetISA
import RivetMachine
import RivetX64

/// Emits x86-64 template code for one guest block.
///
/// Guest registers live in the hart's slots (`[rbx + 8n]`); each instruction loads its
/// operands into scratch registers (rax, rcx, rdx), computes, and stores its result. Every
/// guest memory access is one bounds check against the address-space size (r12) and one host
/// access at `r15 + address`; the host MMU checks permissions and the fault handler turns a
/// fault into a precise guest trap. Exits are out of line after the body ("stubs").
struct BlockTranslator: ~Copyable {
    var assembler = X64Assembler(capacity: 16 << 10)

    struct Output {
        var instructionStarts: [UInt32]
        var exits: [ExitSite]
        /// Guest registers cached in host registers (for restoring state after a fault), each
        /// from the instruction on whose start its host register holds it (`pending`).
        var cachedRegisters: [(guest: UInt8, host: HostRegister, from: UInt8)]
        var isLoop: Bool
        /// Where the block's counting instruction starts (at 0: see `translate`) and its length;
        /// nil for a loop block, which counts as it leaves, and for a block with a counting entry.
        var counter: (offset: Int, length: Int)?
        /// The code offset of the block's counting entry (`translate(countingEntry: true)`).
        var countingEntry: Int? = nil
    }

    /// Code to emit after the block's body.
    enum Stub {
        /// Return `code` to the run loop.
        case exit(X64Label, code: UInt64)
        /// An exit from inside the block for instruction `index`: the cached registers in
        /// `reload` (not written yet, `pending`) loaded from their slots, `mov ecx, index << 8`,
        /// then the block's shared tail for `kind`, which writes the cached registers back.
        case exitWritingBack(X64Label, kind: ExitKind, index: Int, reload: UInt32)
        /// Give back the block's instructions, then return `code`.
        case budget(X64Label, instructions: Int32, code: UInt64)
        /// Store the target pc (in rax) to the hart's pc, then return `code`.
        case indirectMiss(X64Label, code: UInt64)
    }

    var id = 0
    var pc: UInt64 = 0
    /// Whether the block has inline float operations (`InlineFloat.swift`), and whether some
    /// ran since their flags were last folded into `fcsr`.
    var hasInlineFloat = false
    var floatFlagsUnfolded = false
    var helpers = HelperAddresses()
    var stubs: [Stub] = []
    var exitJumps: [(target: UInt64, jump: X64PatchableJump, stub: X64Label)] = []
    var starts: [UInt32] = []
    /// The shared exit tail of each kind used by the block.
    /// The shared exit tails made so far, by `ExitKind.rawValue` (an array, not a dictionary:
    /// hashing and sorting were a few percent of a compile).
    var tails = [X64Label?](repeating: nil, count: ExitKind.allCases.count)
    /// Guest integer registers held in host registers for the whole block, and the cached
    /// registers the block writes (written back to their slots at every exit).
    var cached: [HostRegister?] = Array(repeating: nil, count: 32)
    var cachedList: [(guest: UInt8, host: HostRegister)] = []
    var dirty: [(guest: UInt8, host: HostRegister)] = []
    /// Cached registers the block writes before it reads them and has not written yet: not
    /// loaded at its entry (in Lua's dispatch, 3 of a block's 4 loads), not written back
    /// while pending, loaded by an exit stub taken before their write. Only in a block that
    /// does not loop to itself, and only for a first write by an instruction that calls no
    /// helper and does not leave (`writesInline`), so that no write-back happens between
    /// the instruction's start and its write.
    var pending: UInt32 = 0
    /// The instruction that first writes each guest register of `pending` (by guest number).
    var firstWrite = [UInt8](repeating: 0, count: 32)
    /// Cached registers loaded at the block's entry (the others were `pending` then).
    var loaded: UInt32 = 0
    /// Guest registers whose value, since it was last written, a range check found in
    /// [2048, size + 2048) (or that hold a constant known to lie there, `constantInRange`): an
    /// access `rs1 + imm` (|imm| ≤ 2048) from one of them lies in [0, size + 4096), inside the
    /// space or its guard region, and needs no check of its own.
    var rangeChecked = [Bool](repeating: false, count: 32)
    /// Where the range a base register is checked against starts (`guestAccess`).
    static let rangeStart: Int32 = 2048
    /// Bound after the cache registers are loaded: a branch back to the block's own start
    /// jumps here and keeps its registers in host registers.
    var loopHead: X64Label? = nil

    /// Host registers that can hold guest registers (rax, rcx, rdx are scratch; rbx and
    /// r12-r15 are pinned).
    static let cacheRegisters: [HostRegister] = [.rbp, .rsi, .rdi, .r8, .r9, .r10, .r11]
    /// A loop block's: `loopStart` holds the budget at its head.
    static let loopCacheRegisters = cacheRegisters.filter { $0 != loopStart }
    /// In a block that loops to itself, holds the budget at entry: the block adds the
    /// instructions it ran to its counter when it leaves, instead of at every iteration.
    /// Callee-saved, so helper calls keep it.
    static let loopStart = HostRegister.rbp
    /// Whether the block being translated loops to itself.
    var isLoop = false

    init() {}

    /// Translates `block` (decoded at `pc`) for translation `id`. The code is left in
    /// `assembler`, finished and ready to copy. With `countingEntry`, a block that does not loop
    /// to itself counts its runs only when entered at its counting entry, in its cold part,
    /// not as its code starts.
    mutating func translate(
        id: Int, pc: UInt64, block: [GuestCode.Decoded], helpers: HelperAddresses, countingEntry: Bool = false
    ) throws(X64Error) -> Output {
        assembler.reset()
        self.id = id
        self.pc = pc
        self.helpers = helpers
        stubs.removeAll(keepingCapacity: true)
        for k in tails.indices { tails[k] = nil }
        exitJumps.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)

        if let last = block.last, last.instruction.opcode.format == .b,
            pc &+ UInt64(last.offset) &+ UInt64(bitPattern: last.instruction.imm) == pc
        {
            isLoop = true
        } else {
            isLoop = false
        }
        allocateRegisters(block)
        hasInlineFloat = block.contains { Self.hasInlineFloat($0.instruction) }
        floatFlagsUnfolded = false

        // A block that does not loop to itself counts its instructions as it starts, with its
        // first instruction: 16-byte aligned as the translation is, `TranslationCache.stopCounting`
        // can turn it into a `nop` of its length with one atomic 8-byte store. Or, with a
        // counting entry, where that entry starts (below): its code has no counting instruction.
        var counter: (offset: Int, length: Int)? = nil
        let count = Int32(block.count)
        let body: X64Label? = !isLoop && countingEntry ? assembler.newLabel() : nil
        if let body { assembler.bind(body) }
        if !isLoop, !countingEntry {
            let add = assembler.emit(countRuns(count))
            counter = (add.start, add.end - add.start)
        }
        // Then load the cached registers; then, at the head of every iteration of a block that
        // loops to itself, take the block's instructions from the budget, or leave (writing the
        // registers back) if too little is left.
        reloadCache()
        if isLoop { assembler.emit(.mov(.b64, Self.loopStart, Pinned.budget)) }
        let head = assembler.newLabel()
        assembler.bind(head)
        loopHead = isLoop ? head : nil
        let short = assembler.newLabel()
        assembler.emit(.alu(.sub, .b64, Pinned.budget, imm: count))
        assembler.jcc(.b, to: short)
        stubs.append(.budget(short, instructions: count, code: code(.budget, 0)))

        var endsWithTransfer = false
        for k in 0..<32 { rangeChecked[k] = false }
        // Where a silent compare of doubles starts (`silentDoubleCompare`).
        var silentAt: Int? = nil
        for (k, decoded) in block.enumerated() {
            starts.append(UInt32(assembler.count))
            let instPC = pc + UInt64(decoded.offset)
            endsWithTransfer = decoded.instruction.endsBlock
            if floatFlagsUnfolded, !Self.keepsFloatFlagsUnfolded(decoded.instruction) {
                foldFloatFlags()
                floatFlagsUnfolded = false
            }
            if decoded.instruction.opcode == .csrrs, silentAt == nil, Tier2Backend.hostHasAVX512, k + 2 < block.count,
                [.feq_d, .flt_d, .fle_d].contains(block[k + 1].instruction.opcode),
                RegionFrontend.isSilentCompare(decoded.instruction, block[k + 1].instruction, block[k + 2].instruction)
            {
                silentAt = k
            }
            if let start = silentAt, k > start {
                // The compare raises nothing, and `fsflags` puts back what `frflags` read: the
                // flags are as they were (and MXCSR was folded before the `frflags`).
                if k == start + 1 { floatCompare(decoded.instruction, single: false, silent: true) } else { silentAt = nil }
            } else {
                emit(decoded.instruction, index: k, pc: instPC)
            }
            if pending != 0, decoded.instruction.opcode.format.rdClass == .integer {
                pending &= ~(1 << UInt32(decoded.instruction.rd & 31))
            }
            // Whatever rd names, its check is void (a float rd, or none, only costs a check) —
            // unless it now holds a constant inside the checked range (a global's address from
            // `auipc` or `lui`): accesses from it need no check at all.
            rangeChecked[Int(decoded.instruction.rd) & 31] = Self.constantInRange(decoded.instruction, pc: instPC)
        }
        if !endsWithTransfer, let last = block.last {
            if floatFlagsUnfolded { foldFloatFlags() }
            writeBack()
            exit(to: pc + UInt64(last.offset) + UInt64(last.instruction.length))
        }

        // Stubs, and after them the shared tails: cold, placed apart from the body. First the
        // counting entry: `add [counters + 8·id], n`, then on to the code.
        assembler.startColdSection()
        var entry: Int? = nil
        if let body {
            entry = assembler.count
            assembler.emit(countRuns(count))
            assembler.jmp(to: body)
        }
        for stub in stubs {
            switch stub {
            case .exit(let label, let code):
                assembler.bind(label)
                leave(code)
            case .exitWritingBack(let label, let kind, let index, let reload):
                assembler.bind(label)
                for (guest, host) in cachedList where reload & 1 << UInt32(guest) != 0 {
                    assembler.emit(.mov(.b64, host, x(guest)))
                }
                assembler.emit(.mov(.b32, .rcx, imm: Int64(index << 8)))
                assembler.jmp(to: tail(kind))
            case .budget(let label, let n, let code):
                assembler.bind(label)
                assembler.emit(.alu(.add, .b64, Pinned.budget, imm: n))
                // Only a loop block has run (and changed registers) when its budget runs out.
                // (Another counted a run it did not make: the run loop takes it back.)
                if isLoop { writeBack() }
                leave(code)
            case .indirectMiss(let label, let code):
                assembler.bind(label)
                assembler.emit(.mov(.b64, slot(HartState.Slot.pc), .rax))
                leave(code)
            }
        }
        // The shared tails: write back, then leave with rax = kind | id << 32 | rcx.
        for (raw, tail) in tails.enumerated() {
            guard let label = tail, let kind = ExitKind(rawValue: UInt8(raw)) else { continue }
            assembler.bind(label)
            // (rcx holds the instruction's index.)
            if hasInlineFloat { foldFloatFlags() }
            writeBackRegisters()
            if isLoop {
                // countLoop uses rcx: keep the index in rdx meanwhile.
                assembler.emit(.mov(.b64, .rdx, .rcx))
                countLoop()
                assembler.emit(.mov(.b64, .rcx, .rdx))
            }
            assembler.emit(.loadConstant(.rax, code(kind, 0)))
            assembler.emit(.alu(.or, .b64, .rax, .rcx))
            assembler.emit(.jmp(slot(HartState.Slot.commonExit)))
        }
        try assembler.finish()
        let exits = exitJumps.map { entry in
            ExitSite(
                target: entry.target, patchOffset: entry.jump.displacementOffset,
                stubOffset: assembler.offset(of: entry.stub)!)
        }
        return Output(
            instructionStarts: starts, exits: exits,
            cachedRegisters: cachedList.map { ($0.guest, $0.host, loaded & 1 << UInt32($0.guest) != 0 ? 0 : firstWrite[Int($0.guest)] + 1) },
            isLoop: isLoop, counter: counter, countingEntry: entry)
    }

    /// `add [counters + 8·id], count`: a run of the block counted, where it starts or at its
    /// counting entry.
    func countRuns(_ count: Int32) -> X64Instruction { .alu(.add, .b64, .at(Pinned.counters, Int32(8 * id)), imm: count) }

    // MARK: Operands and exits

    @inline(__always) func slot(_ n: Int) -> X64Memory { .at(Pinned.state, Int32(8 * n)) }
    @inline(__always) func x(_ r: UInt8) -> X64Memory { slot(Int(r)) }
    @inline(__always) func f(_ r: UInt8) -> X64Memory { slot(HartState.Slot.f + Int(r)) }

    /// An exit code: kind, instruction or exit index, translation id.
    func code(_ kind: ExitKind, _ index: Int) -> UInt64 {
        UInt64(kind.rawValue) | UInt64(index) << 8 | UInt64(id) << 32
    }

    /// `movabs rax, code; jmp [common exit]`: through a slot, so that the code is position
    /// independent and can be compiled before its address is known.
    mutating func leave(_ code: UInt64) {
        assembler.emit(.loadConstant(.rax, code))
        assembler.emit(.jmp(slot(HartState.Slot.commonExit)))
    }

    /// A patchable jump (conditional if `condition` is given) out of the block to `target`,
    /// through an exit stub until the engine links it.
    mutating func exit(to target: UInt64, if condition: X64Condition? = nil) {
        let stub = assembler.newLabel()
        let jump = assembler.patchableJump(condition, to: stub)
        stubs.append(.exit(stub, code: code(.chain, exitJumps.count)))
        exitJumps.append((target, jump, stub))
    }

    /// A jump to an out-of-line exit returning `kind` for instruction `k`.
    mutating func exitIf(_ condition: X64Condition, _ kind: ExitKind, _ k: Int) {
        let stub = assembler.newLabel()
        assembler.jcc(condition, to: stub)
        stubs.append(.exitWritingBack(stub, kind: kind, index: k, reload: pending))
    }

    // MARK: Register cache

    /// Caches the most used guest integer registers (used at least twice) in host registers.
    mutating func allocateRegisters(_ block: [GuestCode.Decoded]) {
        // On buffers, not arrays: the uniqueness check of every element written and a sort
        // with a closure were 8% of a tier-1 compile.
        cached.withUnsafeMutableBufferPointer { $0.update(repeating: nil) }
        cachedList.removeAll(keepingCapacity: true)
        dirty.removeAll(keepingCapacity: true)
        var written: UInt32 = 0
        var read: UInt32 = 0
        var writtenFirst: UInt32 = 0
        let available = isLoop ? Self.loopCacheRegisters : Self.cacheRegisters
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 32) { uses in
            uses.initialize(repeating: 0)
            for (k, d) in block.enumerated() {
                let i = d.instruction
                let format = i.opcode.format
                if format.rs1Class == .integer { uses[Int(i.rs1 & 31)] += 1; read |= 1 << (i.rs1 & 31) }
                if format.rs2Class == .integer { uses[Int(i.rs2 & 31)] += 1; read |= 1 << (i.rs2 & 31) }
                if format.rdClass == .integer {
                    let bit: UInt32 = 1 << (i.rd & 31)
                    uses[Int(i.rd & 31)] += 1
                    if (read | written) & bit == 0, Self.writesInline(format) {
                        writtenFirst |= bit
                        firstWrite[Int(i.rd & 31)] = UInt8(k)
                    }
                    written |= bit
                }
            }
            // The registers used at least twice, most used first, the lower number first among
            // equals: one pass per cache register over those candidates (a block names a
            // handful of registers; a pass over all 31 was a fifth of a compile's bookkeeping).
            var candidates: UInt32 = 0
            var named = (read | written) & ~1
            while named != 0 {
                let k = named.trailingZeroBitCount
                named &= named &- 1
                if uses[k] > 1 { candidates |= 1 << UInt32(k) }
            }
            for host in available {
                guard candidates != 0 else { break }
                var guest = 0
                var most: Int32 = 1
                var left = candidates
                while left != 0 {
                    let k = left.trailingZeroBitCount
                    left &= left &- 1
                    if uses[k] > most {
                        guest = k
                        most = uses[k]
                    }
                }
                candidates &= ~(1 << UInt32(guest))
                cached[guest] = host
                cachedList.append((UInt8(guest), host))
                if written & 1 << guest != 0 { dirty.append((UInt8(guest), host)) }
            }
        }
        var cachedMask: UInt32 = 0
        for (guest, _) in cachedList { cachedMask |= 1 << UInt32(guest) }
        pending = isLoop ? 0 : writtenFirst & cachedMask
        loaded = cachedMask & ~pending
    }

    /// Whether an instruction of `format` writes its integer rd without a helper call or an
    /// exit of the block before the write (other than a range check's, for the instruction
    /// itself): ALU operations, shifts, loads, `lui`, `auipc`.
    static func writesInline(_ format: Format) -> Bool {
        switch format {
        case .r, .i, .load, .shift64, .shift32, .u, .unary: true
        default: false
        }
    }

    /// Loads every cached register from its slot (but those `pending`).
    mutating func reloadCache() {
        for (guest, host) in cachedList where pending & 1 << UInt32(guest) == 0 { assembler.emit(.mov(.b64, host, x(guest))) }
    }

    /// Stores every cached register the block writes to its slot and, in a loop block, adds the
    /// instructions it ran to its counter. Used at every exit. Clobbers rax and the flags when
    /// counting, so exits that still need flags use `writeBackRegisters` first.
    mutating func writeBack() {
        writeBackRegisters()
        countLoop()
    }

    /// Stores every cached register the block writes (and has written: not `pending`) to its
    /// slot. Does not change flags.
    mutating func writeBackRegisters() {
        for (guest, host) in dirty where pending & 1 << UInt32(guest) == 0 { assembler.emit(.mov(.b64, x(guest), host)) }
    }

    /// In a loop block, adds the instructions run since entry to the block's counter.
    mutating func countLoop() {
        guard isLoop else { return }
        assembler.emit(.mov(.b64, .rcx, Self.loopStart))
        assembler.emit(.alu(.sub, .b64, .rcx, Pinned.budget))
        assembler.emit(.alu(.add, .b64, .at(Pinned.counters, Int32(8 * id)), .rcx))
    }

    /// Loads guest integer register `r` into `destination`. Does not change flags.
    mutating func load(_ destination: HostRegister, _ r: UInt8, _ size: X64OperandSize = .b64) {
        if let host = cached[Int(r)] {
            assembler.emit(.mov(size, destination, host))
        } else {
            assembler.emit(.mov(size, destination, x(r)))
        }
    }

    /// `op destination, r` with guest integer register `r` as the second operand.
    mutating func alu(_ op: X64ALUOp, _ size: X64OperandSize, _ destination: HostRegister, _ r: UInt8) {
        if let host = cached[Int(r)] {
            assembler.emit(.alu(op, size, destination, host))
        } else {
            assembler.emit(.alu(op, size, destination, x(r)))
        }
    }

    /// Stores a 64-bit constant into integer register `rd`. Does not change flags.
    mutating func storeConstant(_ value: UInt64, to rd: UInt8) {
        guard rd != 0 else { return }
        if let host = cached[Int(rd)] {
            assembler.emit(.loadConstant(host, value))
        } else if let small = Int32(exactly: Int64(bitPattern: value)) {
            assembler.emit(.mov(.b64, x(rd), imm: small))
        } else {
            assembler.emit(.loadConstant(.rdx, value))
            assembler.emit(.mov(.b64, x(rd), .rdx))
        }
    }

    /// Stores rax, sign-extended from 32 bits when `word`, into integer register `rd`.
    mutating func storeResult(_ rd: UInt8, word: Bool = false, from register: HostRegister = .rax) {
        if word { assembler.emit(.movsx(.b64, register, register, from: .b32)) }
        guard rd != 0 else { return }
        if let host = cached[Int(rd)] {
            assembler.emit(.mov(.b64, host, register))
        } else {
            assembler.emit(.mov(.b64, x(rd), register))
        }
    }

    /// The guest memory operand of the access `rs1 + imm`. The first access from rs1 in the
    /// block (since rs1 was last written) checks that rs1 lies in [2048, size + 2048) (`lea
    /// rax, [rs1 - 2048]; cmp rax, [size]`, unsigned): then every access from it with a 12-bit
    /// offset falls inside the space or its guard region (a host fault, recovered as any
    /// other), and later ones need no check: `[r15 + rs1 + imm]` (sp-relative saves and
    /// restores are 4 host instructions each without it). A base outside the range leaves
    /// through a stub, and the interpreter runs the access exactly. Accesses from x0 check
    /// their address exactly (`address`).
    mutating func guestAccess(_ i: Instruction, index k: Int) -> X64Memory {
        guard i.rs1 != 0, (-2048...2047).contains(i.imm) else { return guest(address(i, index: k)) }
        let base: HostRegister
        if let host = cached[Int(i.rs1)] {
            base = host
        } else {
            load(.rax, i.rs1)
            base = .rax
        }
        if !rangeChecked[Int(i.rs1)] {
            assembler.emit(.lea(.b64, .rcx, .at(base, -Self.rangeStart)))
            assembler.emit(.alu(.cmp, .b64, .rcx, slot(HartState.Slot.addressSpaceSize)))
            exitIf(.ae, .boundsFault, k)
            rangeChecked[Int(i.rs1)] = true
        }
        return .at(Pinned.memory, index: base, Int32(truncatingIfNeeded: i.imm))
    }

    /// Whether `i` writes an integer register with a constant (`lui`, `auipc`) that
    /// `guestAccess` would find in range: accesses from it with a 12-bit offset fall inside the
    /// address space or its guard region. (`li` of a 12-bit value never is: the range starts
    /// at `rangeStart`, 2048.)
    static func constantInRange(_ i: Instruction, pc: UInt64) -> Bool {
        let value: UInt64
        switch i.opcode {
        case .lui: value = UInt64(bitPattern: i.imm)
        case .auipc: value = pc &+ UInt64(bitPattern: i.imm)
        default: return false
        }
        return i.rd != 0 && value &- UInt64(rangeStart) < GuestMemory.addressSpaceSize
    }

    /// The effective address `rs1 + imm` in rax, checked against the end of the guest address
    /// space (an access past the end leaves through a stub; the interpreter then reports the
    /// fault): `guestAccess` for a base it cannot range-check (x0).
    mutating func address(_ i: Instruction, index k: Int) -> HostRegister {
        load(.rax, i.rs1)
        if i.imm != 0 { assembler.emit(.alu(.add, .b64, .rax, imm: Int32(truncatingIfNeeded: i.imm))) }
        assembler.emit(.alu(.cmp, .b64, .rax, slot(HartState.Slot.addressSpaceSize)))
        exitIf(.ae, .boundsFault, k)
        return .rax
    }

    /// The guest memory operand `[r15 + address]`.
    func guest(_ address: HostRegister) -> X64Memory { .at(Pinned.memory, index: address) }

    /// Calls a helper `(state, packed, extra) -> status`; a non-zero status leaves through
    /// a stub and the interpreter re-executes the instruction for its exact trap.
    mutating func callHelper(_ address: UInt, packed: UInt64, extra: UInt64, index k: Int) {
        // Helpers work on the slots, and calls clobber the caller-saved cache registers.
        for r in 0..<32 { rangeChecked[r] = false }
        writeBackRegisters()
        assembler.emit(.mov(.b64, slot(HartState.Slot.budget), Pinned.budget))
        assembler.emit(.mov(.b64, .rdi, Pinned.state))
        assembler.emit(.loadConstant(.rsi, packed))
        assembler.emit(.loadConstant(.rdx, extra))
        assembler.emit(.loadConstant(.rax, UInt64(address)))
        assembler.emit(.call(.rax))
        clearFloatFlags()
        reloadCache()
        assembler.emit(.test(.b64, .rax, .rax))
        exitIf(.ne, .helperFailure, k)
    }

    /// An `ecall` (its registers written back): when the hart has an ecall handler, calls it
    /// first (`(slots, pc, 1) -> EcallOutcome`), and on `.resume` goes on to the next instruction
    /// as a chained exit, without leaving JIT code; otherwise leaves with `.syscall` for the
    /// run loop. (The embedder's host functions cost a call this way, not a trip through the
    /// run loop.) The handler may run guest code itself (the hart's slots change; the block's
    /// cached registers are dead here, the next block reloads them).
    mutating func emitEcall(at pc: UInt64, index k: Int) {
        let syscall = assembler.newLabel()
        assembler.emit(.mov(.b64, .rax, slot(HartState.Slot.ecallHandler)))
        assembler.emit(.test(.b64, .rax, .rax))
        assembler.jcc(.e, to: syscall)
        assembler.emit(.mov(.b64, slot(HartState.Slot.budget), Pinned.budget))
        assembler.emit(.mov(.b64, .rdi, Pinned.state))
        assembler.emit(.loadConstant(.rsi, pc))
        assembler.emit(.mov(.b32, .rdx, imm: 1))  // from JIT code
        assembler.emit(.call(.rax))
        clearFloatFlags()
        assembler.emit(.test(.b64, .rax, .rax))
        exit(to: pc + 4, if: .e)
        let handled = assembler.newLabel()
        let stopped = assembler.newLabel()
        assembler.emit(.alu(.cmp, .b64, .rax, imm: Int32(EcallOutcome.handled.rawValue)))
        assembler.jcc(.e, to: handled)
        assembler.emit(.alu(.cmp, .b64, .rax, imm: Int32(EcallOutcome.stopped.rawValue)))
        assembler.jcc(.e, to: stopped)
        assembler.bind(syscall)
        leave(code(.syscall, k))
        assembler.bind(handled)
        leave(code(.ecallHandled, k))
        assembler.bind(stopped)
        leave(code(.ecallStopped, k))
    }

    /// The block's shared exit tail for `kind`.
    mutating func tail(_ kind: ExitKind) -> X64Label {
        if let existing = tails[Int(kind.rawValue)] { return existing }
        let label = assembler.newLabel()
        tails[Int(kind.rawValue)] = label
        return label
    }

    /// A stub for a jump-cache miss: the target pc is in rax.
    mutating func stubsAppendIndirectMiss(_ label: X64Label) {
        stubs.append(.indirectMiss(label, code: code(.indirect, 0)))
    }

    /// Packs an instruction's fields for a helper: opcode, register numbers, rm, csr number.
    static func pack(_ i: Instruction) -> UInt64 {
        UInt64(i.opcode.rawValue) | UInt64(i.rd) << 8 | UInt64(i.rs1) << 16 | UInt64(i.rs2) << 24
            | UInt64(i.rs3) << 32 | UInt64(i.rm) << 40 | UInt64(UInt16(truncatingIfNeeded: i.imm) & 0xfff) << 48
    }
}
