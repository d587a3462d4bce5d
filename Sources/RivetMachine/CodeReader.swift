import RivetISA

/// Reads the instructions of one block for a decoder (the interpreter's, tier 1's): those on
/// the block's first page in place when the page is readable and executable, with one look at
/// its permissions for the block; the others (an instruction across the page's end, an
/// execute-only page, a pc outside guest memory) through `GuestMemory.instruction(at:)`,
/// parcel by parcel. Reading each parcel through its own permission check was most of a
/// decoder's fetching (Performance.md, seventeenth session).
public struct CodeReader {
    @usableFromInline let memory: GuestMemory
    @usableFromInline let start: UInt64
    /// The bytes of the block's page from `start` on, or nil.
    @usableFromInline let page: UnsafeRawPointer?
    /// The last pc whose 4 bytes lie on the page.
    @usableFromInline let inPlaceEnd: UInt64

    /// A reader for the block at `start` (any pc: one outside guest memory reads nothing in
    /// place, and its instruction is a fault).
    public init(_ memory: GuestMemory, block start: UInt64) {
        self.memory = memory
        self.start = start
        var page: UnsafeRawPointer? = nil
        if start & 1 == 0, start < GuestMemory.addressSpaceSize {
            let rights = MemoryPermissions(rawValue: memory.pagePermissions[Int(start >> GuestMemory.pageShift)])
            if rights.contains(.execute), rights.contains(.read) { page = UnsafeRawPointer(memory.host(start)) }
        }
        self.page = page
        // (Only for a page in guest memory: past the top of the 64-bit space it would wrap.)
        inPlaceEnd = page == nil ? 0 : (start >> GuestMemory.pageShift + 1) << GuestMemory.pageShift - 4
    }

    /// The 4 bytes at `pc` (at or after the block's start) when they lie on the block's first
    /// page and it can be read in place, else nil (then `instruction(at:)` fetches). A
    /// compressed instruction is the low 16 bits.
    @inlinable
    public func word(at pc: UInt64) -> UInt32? {
        guard let page, pc <= inPlaceEnd else { return nil }
        return page.loadUnaligned(fromByteOffset: Int(pc &- start), as: UInt32.self)
    }

    /// The instruction at `pc` (at or after the block's start), or the fault of fetching it.
    @inlinable
    public func instruction(at pc: UInt64) -> Result<Instruction, GuestFault> {
        if let word = word(at: pc) { return .success(Decoder.decode(word: word)) }
        return memory.instruction(at: pc)
    }
}
