import RivetISA

/// Instructions already decoded and lowered to the loop's form, by their encoding: a
/// direct-mapped table an interpreter consults before decoding (`BlockDecoder`).
///
/// Code that runs once or twice is mostly decoding, and most of a program's instructions
/// repeat encodings seen shortly before (`addi sp, sp, -16`, `ld ra, 8(sp)`, `c.mv a0, s0`):
/// a table of 4,096 entries answers about 60% of the lookups of `startup`, `flat` or SQLite's
/// code (Performance.md, twenty-sixth session). An entry depends only on the encoding, so
/// guest code that changes never makes one stale. One table per interpreter, used on its
/// hart's thread only.
///
/// An entry is the lowered `Inst`, the encoding (`key(of:)`; 0, which encodes no instruction,
/// marks a free entry), the instruction's length and what the block decoder asks of it. 16
/// bytes, so the table is 64 KiB.
final class DecodeCache {
    /// `Entry.flags`: a conditional branch (the block goes on past it).
    static let conditionalBranch: UInt8 = 1
    /// ... an instruction that ends a block (other control transfers, system instructions).
    static let endsBlock: UInt8 = 2

    /// One instruction, lowered as far as it does not depend on its place
    /// (`BlockDecoder.lower`).
    struct Entry {
        var inst: Inst
        /// The encoding (`key(of:)`).
        var key: UInt32
        /// `conditionalBranch`, `endsBlock`.
        var flags: UInt8
        var length: UInt8
    }

    static let bits = 12
    private let entries: UnsafeMutablePointer<Entry>
    /// Where an instruction decoded outside the table is lowered (`lowered(_: Instruction)`).
    private let scratch: UnsafeMutablePointer<Entry>

    /// Lookups answered from the table, and those decoded.
    private(set) var hits: UInt64 = 0
    private(set) var misses: UInt64 = 0

    init() {
        entries = .allocate(capacity: 1 << Self.bits)
        entries.initialize(
            repeating: Entry(inst: Inst(op: .illegal, rd: 0, rs1: 0, rs2: 0, imm: 0), key: 0, flags: 0, length: 0),
            count: 1 << Self.bits)
        scratch = .allocate(capacity: 1)
        scratch.initialize(to: entries[0])
    }

    deinit {
        entries.deallocate()
        scratch.deallocate()
    }

    /// The bits of `word` that are its instruction: the first parcel of a compressed one, else
    /// all 32.
    @inline(__always)
    static func key(of word: UInt32) -> UInt32 {
        word & 3 == 3 ? word : word & 0xffff
    }

    /// The instruction whose encoding starts `word` (the bytes at its pc), lowered: from the
    /// table, or decoded and kept there. Good until the next call.
    @inline(__always)
    func lowered(_ word: UInt32) -> UnsafePointer<Entry> {
        let key = Self.key(of: word)
        let slot = entries + Int(truncatingIfNeeded: (key &* 0x9E37_79B1) >> UInt32(32 - Self.bits))
        if slot.pointee.key == key, key != 0 {
            hits &+= 1
            return UnsafePointer(slot)
        }
        misses &+= 1
        Self.lower(Decoder.decode(word: key), into: slot)
        return UnsafePointer(slot)
    }

    /// `instruction` (fetched another way) lowered, outside the table. Good until the next call.
    func lowered(_ instruction: Instruction) -> UnsafePointer<Entry> {
        Self.lower(instruction, into: scratch)
        return UnsafePointer(scratch)
    }

    @inline(never)
    private static func lower(_ instruction: Instruction, into entry: UnsafeMutablePointer<Entry>) {
        let format = instruction.opcode.format
        entry.pointee = Entry(
            inst: BlockDecoder.lower(instruction, format: format), key: instruction.raw,
            flags: format == .b ? conditionalBranch : instruction.endsBlock ? endsBlock : 0, length: instruction.length)
    }
}
