import CRivetHost
#if canImport(Glibc)
import Glibc
#endif
import RivetISA
import RivetMachine
import RivetX64

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

/// Tier 1: translates one guest basic block into x86-64 template code (DESIGN.md decision 3).
final class BaselineCompiler {
    let cache: TranslationCache
    let memory: GuestMemory
    private var translator = BlockTranslator()
    /// Offsets of the shared stubs in the code region.
    private(set) var commonExit: UInt64 = 0
    private(set) var faultExit: UInt64 = 0
    private let enterFunction: EnterFunction
    private let trampolineLength: Int
    let context: HelperContext

    /// Most guest instructions in one translation.
    static let maxInstructions = 64

    init(cache: TranslationCache, memory: GuestMemory) throws(JITError) {
        self.cache = cache
        self.memory = memory
        context = HelperContext(memory: memory)
        // The trampolines live at the start of the region for the region's lifetime.
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
    func enter(_ state: UnsafeMutablePointer<UInt64>, _ entry: UInt) -> UInt64 {
        state[HartState.Slot.budgetAtEntry] = state[HartState.Slot.budget]
        state[HartState.Slot.helperContext] = UInt64(UInt(bitPattern: Unmanaged.passUnretained(context).toOpaque()))
        return enterFunction(state, UnsafeRawPointer(bitPattern: entry)!, cache.counters)
    }

    /// Where to write each translation's code for inspection (`RIVET_JIT_DUMP=DIR`):
    /// `DIR/PC.bin`, to read with `objdump -D -b binary -m i386:x86-64 -M intel`.
    static let dumpDirectory: String? = {
        guard let value = getenv("RIVET_JIT_DUMP") else { return nil }
        return String(cString: value)
    }()

    private func dump(_ t: Translation, to directory: String) {
        let path = directory + "/" + String(t.guestPC, radix: 16) + ".bin"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return }
        _ = Glibc.write(fd, cache.region.executable(at: t.hostOffset), t.hostLength)
        close(fd)
    }

    /// Whether the instruction at `pc` can be fetched (for reporting a fetch fault).
    func fetchCheck(_ pc: UInt64) -> Result<Void, GuestFault> {
        switch GuestCode.fetch(at: pc, memory: memory) {
        case .success: .success(())
        case .failure(let fault): .failure(fault)
        }
    }

    /// Decodes and translates the block at `pc`, and adds it to the cache.
    /// - Throws: `JITError.fetchFault` if the first instruction cannot be fetched,
    ///   `.cacheFull` if the code cache has no room.
    func translate(at pc: UInt64) throws(JITError) -> Translation {
        let start = ContinuousClock.now
        let block = GuestCode.decodeBlock(at: pc, memory: memory, limit: Self.maxInstructions)
        guard !block.isEmpty else { throw .fetchFault }
        guard let id = cache.reserveID() else { throw .cacheFull }
        let output: BlockTranslator.Output
        do {
            output = try translator.translate(
                id: id, pc: pc, block: block, commonExit: commonExit, helpers: context.addresses)
        } catch {
            cache.releaseID(id)
            throw .cacheFull
        }
        let length = translator.assembler.count
        guard let offset = cache.region.allocate(length) else {
            cache.releaseID(id)
            throw .cacheFull
        }
        do {
            try translator.assembler.copy(
                to: UnsafeMutableRawBufferPointer(start: cache.region.writable(at: offset), count: length),
                address: HostAddress(cache.region.executable(at: offset)))
        } catch {
            cache.region.release(offset: offset, length: length)
            cache.releaseID(id)
            throw .cacheFull
        }
        let elapsed = ContinuousClock.now - start
        let ns = UInt64(elapsed.components.attoseconds / 1_000_000_000) + UInt64(elapsed.components.seconds) * 1_000_000_000
        let t = Translation(
            id: id, guestPC: pc, guestEnd: pc + UInt64(block.last!.offset) + UInt64(block.last!.instruction.length),
            instructionOffsets: block.map(\.offset), hostOffset: offset, hostLength: length,
            hostInstructionStarts: output.instructionStarts, exits: output.exits,
            cachedRegisters: output.cachedRegisters.map { ($0.guest, $0.host.rawValue) }, isLoop: output.isLoop,
            compileNanoseconds: ns)
        cache.insert(t)
        if let directory = Self.dumpDirectory { dump(t, to: directory) }
        return t
    }
}
