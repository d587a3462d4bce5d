import CRivetHost
import RivetISA
import RivetMachine
import RivetX64

#if canImport(Glibc)
import Glibc
#endif

/// Host registers with a fixed role in JIT code (DESIGN.md decision 2). All are callee-saved in
/// the SysV ABI, so helper calls preserve them.
enum Pinned {
    /// The hart's slots (HartState.slots); the fault handler relies on this.
    static let state = HostRegister.rbx
    /// Host address of guest address 0.
    static let memory = HostRegister.r15
    /// The jump cache.
    static let jumpCache = HostRegister.r14
    /// Execution counters, one per translation id: guest instructions executed in it.
    static let counters = HostRegister.r13
    /// The instruction budget (HartState.Slot.budget while JIT code runs).
    static let budget = HostRegister.r12
}

/// The entry into JIT code: `enter(state, code, counters) -> exit code`.
typealias EnterFunction = @convention(c) (
    UnsafeMutablePointer<UInt64>, UnsafeRawPointer, UnsafeMutablePointer<UInt64>
) -> UInt64

/// The fixed parts of JIT code — the entry trampoline, the common exit and the fault exit, at
/// the start of the code region — and placing compiled blocks in the region.
final class JITRuntime {
    let cache: TranslationCache
    let context: HelperContext
    private let enterFunction: EnterFunction
    /// Executable addresses of the shared exits.
    let commonExit: UInt64
    let faultExit: UInt64
    /// Bytes the trampolines take at the start of the region.
    let trampolineLength: Int

    init(cache: TranslationCache, memory: GuestMemory) throws(JITError) {
        self.cache = cache
        context = HelperContext(memory: memory)
        var a = X64Assembler(capacity: 256)
        let exitLabel = a.newLabel()
        let faultLabel = a.newLabel()
        for r: HostRegister in [.rbp, .rbx, .r12, .r13, .r14, .r15] { a.emit(.push(r)) }
        a.emit(.alu(.sub, .b64, .rsp, imm: 8))
        a.emit(.mov(.b64, Pinned.state, .rdi))
        a.emit(.mov(.b64, Pinned.memory, .at(Pinned.state, Int32(8 * HartState.Slot.guestBase))))
        a.emit(.mov(.b64, Pinned.jumpCache, .at(Pinned.state, Int32(8 * HartState.Slot.jumpCache))))
        a.emit(.mov(.b64, Pinned.counters, .rdx))
        a.emit(.mov(.b64, Pinned.budget, .at(Pinned.state, Int32(8 * HartState.Slot.budget))))
        // MXCSR without flags: tier 1 folds every flag it finds there into fcsr, and host code
        // may have raised some (InlineFloat.swift).
        a.emit(.mov(.b32, .at(Pinned.state, Int32(8 * HartState.Slot.mxcsr)), imm: BlockTranslator.cleanMXCSR))
        a.emit(.ldmxcsr(.at(Pinned.state, Int32(8 * HartState.Slot.mxcsr))))
        a.emit(.jmp(.rsi))
        a.align(16)
        a.bind(exitLabel)
        a.emit(.mov(.b64, .at(Pinned.state, Int32(8 * HartState.Slot.budget)), Pinned.budget))
        a.emit(.alu(.add, .b64, .rsp, imm: 8))
        for r: HostRegister in [.r15, .r14, .r13, .r12, .rbx, .rbp] { a.emit(.pop(r)) }
        a.emit(.ret)
        a.align(16)
        a.bind(faultLabel)
        a.emit(.mov(.b32, .rax, imm: Int64(ExitKind.hostFault.rawValue)))
        a.jmp(to: exitLabel)
        do { try a.finish() } catch { throw .cacheFull }
        try cache.region.map()
        let length = a.count
        guard let offset = cache.region.allocate(length), offset == 0 else { throw .cacheFull }
        do {
            try a.copy(
                to: UnsafeMutableRawBufferPointer(start: cache.region.writable(at: 0), count: length),
                address: HostAddress(cache.region.executable(at: 0)))
        } catch { throw .cacheFull }
        trampolineLength = length
        let base = UInt64(UInt(bitPattern: cache.region.executable(at: 0)))
        commonExit = base + UInt64(a.offset(of: exitLabel)!)
        faultExit = base + UInt64(a.offset(of: faultLabel)!)
        enterFunction = unsafeBitCast(cache.region.executable(at: 0), to: EnterFunction.self)
        let range = cache.region.executableRange
        guard rivet_register_code_range(UInt(range.lowerBound), UInt(range.upperBound), UInt(faultExit)) == 0 else {
            throw .executableMemory(errno: 0)
        }
    }

    deinit {
        rivet_unregister_code_range(UInt(cache.region.executableRange.lowerBound))
    }

    /// Runs JIT code from `entry` until it exits; returns the exit code.
    @inline(__always)
    func enter(_ state: UnsafeMutablePointer<UInt64>, _ entry: UInt, counters: UnsafeMutablePointer<UInt64>) -> UInt64 {
        state[HartState.Slot.budgetAtEntry] = state[HartState.Slot.budget]
        state[HartState.Slot.commonExit] = commonExit
        state[HartState.Slot.counters] = UInt64(UInt(bitPattern: counters))
        state[HartState.Slot.helperContext] = UInt64(UInt(bitPattern: Unmanaged.passUnretained(context).toOpaque()))
        return enterFunction(state, UnsafeRawPointer(bitPattern: entry)!, counters)
    }

    /// Bytes a compiled block takes in the region: its hot part, and its cold part with the
    /// instruction tables.
    static func lengths(of block: CompiledBlock) -> (hot: Int, cold: Int) {
        (block.hotLength, Translation.coldLength(coldCode: block.code.count - block.hotLength, instructions: block.instructions))
    }

    /// Places a compiled block's parts at `offsets` in the region (`lengths(of:)` bytes each)
    /// and makes its translation.
    func place(_ block: CompiledBlock, at offsets: (hot: Int, cold: Int)) -> Translation {
        let hot = cache.region.writable(at: offsets.hot)
        let cold = cache.region.writable(at: offsets.cold)
        let split = block.hotLength
        block.code.withUnsafeBytes { bytes in
            hot.copyMemory(from: bytes.baseAddress!, byteCount: split)
            cold.copyMemory(from: bytes.baseAddress! + split, byteCount: bytes.count - split)
        }
        if !block.crossings.isEmpty {
            X64Assembler.placeApart(
                hot: hot, cold: cold, coldStart: split, crossings: block.crossings, delta: offsets.cold - (offsets.hot + split))
        }
        let r = block.request
        let t = Translation(
            id: r.id, guestPC: r.pc, guestEnd: r.guestEnd, instructionOffsets: r.block.prefix(block.instructions).lazy.map { $0.offset },
            hostOffset: offsets.hot, coldOffset: offsets.cold, cold: cold, codeLength: block.code.count, coldStart: split,
            hostInstructionStarts: block.instructionStarts, exits: block.exits, cachedRegisters: block.cachedRegisters,
            isLoop: block.isLoop, counter: block.counter, countingEntry: block.countingEntry, compileNanoseconds: block.compileNanoseconds,
            optimized: block.optimized)
        if let directory = Self.dumpDirectory { dump(t, to: directory) }
        return t
    }

    /// Where to write each translation's code for inspection (`RIVET_JIT_DUMP=DIR`):
    /// `DIR/PC.bin`, to read with `objdump -D -b binary -m i386:x86-64 -M intel`, and its cold
    /// part (exit stubs, then the instruction tables) in `DIR/PC.cold.bin`; a tier-2 region's in
    /// `DIR/PC.opt.bin` and `DIR/PC.opt.cold.bin` (a baseline block at its pc keeps its own).
    static let dumpDirectory: String? = {
        guard let value = getenv("RIVET_JIT_DUMP") else { return nil }
        return String(cString: value)
    }()

    private func dump(_ t: Translation, to directory: String) {
        for (suffix, offset, length) in [(".bin", t.hostOffset, t.hostLength), (".cold.bin", t.coldOffset, t.coldLength)] {
            let path = directory + "/" + String(t.guestPC, radix: 16) + (t.optimized == nil ? "" : ".opt") + suffix
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { return }
            _ = Glibc.write(fd, cache.region.executable(at: offset), length)
            close(fd)
        }
    }
}
