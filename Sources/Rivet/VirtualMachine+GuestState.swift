import RivetMachine

/// The guest's memory and registers, for an embedder: between runs (before `run()`, after it
/// returned), never while guest code runs. Memory access is checked as the guest's own would
/// be (bounds and page rights: a read needs read permission, a write write permission), so an
/// embedder cannot reach host memory through it, nor write the guest's read-only code.
///
/// ```swift
/// let vm = try VirtualMachine(programPath: "hello", configuration: Configuration())
/// let entry = vm.pc
/// let first = try vm.readMemory(at: entry, count: 4)
/// vm[x: 10] = 42  // a0
/// ```
extension VirtualMachine {
    /// The first thread's pc (bit 0 is always clear).
    public var pc: UInt64 {
        get { process.hart.pc }
        set { process.hart.pc = newValue }
    }

    /// Integer register `n` (0...31) of the first thread; writes to x0 are ignored.
    /// - Precondition: `n` is in 0...31.
    public subscript(x n: Int) -> UInt64 {
        get {
            precondition((0...31).contains(n), "x\(n) is not a RISC-V integer register")
            return process.hart[x: n]
        }
        set {
            precondition((0...31).contains(n), "x\(n) is not a RISC-V integer register")
            process.hart[x: n] = newValue
        }
    }

    /// Floating-point register `n` (0...31) of the first thread, as its 64 raw bits (a single
    /// is NaN-boxed in the low half).
    /// - Precondition: `n` is in 0...31.
    public subscript(f n: Int) -> UInt64 {
        get {
            precondition((0...31).contains(n), "f\(n) is not a RISC-V floating-point register")
            return process.hart[f: n]
        }
        set {
            precondition((0...31).contains(n), "f\(n) is not a RISC-V floating-point register")
            process.hart[f: n] = newValue
        }
    }

    /// `fcsr`: fflags in bits 4:0, frm in bits 7:5.
    public var fcsr: UInt64 {
        get { process.hart.fcsr }
        set { process.hart.fcsr = newValue }
    }

    /// `count` bytes of guest memory at `address`.
    /// - Throws: `RivetError` (`.guestMemoryFault`) naming the first byte the guest may not read.
    public func readMemory(at address: UInt64, count: Int) throws(RivetError) -> [UInt8] {
        guard count >= 0 else { throw RivetError(.guestMemoryFault, "a negative count (\(count)) of bytes to read") }
        do { return try memory.read(at: address, size: count) } catch { throw Self.refusal(error) }
    }

    /// Writes `bytes` to guest memory at `address`; code decoded or compiled from those bytes is
    /// dropped, as for the guest's own stores.
    /// - Throws: `RivetError` (`.guestMemoryFault`) naming the first byte the guest may not
    ///   write; nothing is written then.
    public func writeMemory(_ bytes: some Collection<UInt8>, at address: UInt64) throws(RivetError) {
        do {
            try memory.check(address, size: bytes.count, access: .write)
            try memory.write(bytes, at: address)
        } catch { throw Self.refusal(error) }
    }

    /// Copies `count` bytes inside guest memory (overlapping ranges copy as memmove does).
    /// - Throws: `RivetError` (`.guestMemoryFault`) if the guest may not read the source or write
    ///   the destination; nothing is written then.
    public func copyMemory(from source: UInt64, to destination: UInt64, count: Int) throws(RivetError) {
        let bytes = try readMemory(at: source, count: count)
        try writeMemory(bytes, at: destination)
    }

    /// The NUL-terminated string at `address` (cut at `maxLength` bytes if no NUL comes first),
    /// decoded as UTF-8 with invalid sequences repaired.
    /// - Throws: `RivetError` (`.guestMemoryFault`) if it runs into memory the guest may not read.
    public func readString(at address: UInt64, maxLength: Int = 4096) throws(RivetError) -> String {
        do {
            let bytes = try memory.readCString(at: address, maxLength: maxLength)
            return String(decoding: bytes, as: UTF8.self)
        } catch { throw Self.refusal(error) }
    }

    /// The guest address of the program's symbol `name` (from its ELF symbol table, moved by
    /// the load bias of a position-independent program), if it has one.
    public func address(ofSymbol name: String) -> UInt64? {
        guard let symbol = program.symbols.first(where: { $0.name == name }) else { return nil }
        return symbol.address &+ (process.program?.bias ?? 0)
    }

    private static func refusal(_ fault: GuestFault) -> RivetError {
        RivetError(.guestMemoryFault, "guest memory: \(fault)")
    }
}
