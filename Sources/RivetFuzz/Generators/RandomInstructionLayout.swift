/// Where things are in a generated program, and which register holds the scratch address.
package enum RandomInstructionLayout {
    /// Where the code is loaded.
    package static let textAddress: UInt64 = 0x10000
    /// Where the data block (initial state, scratch area, dump) is loaded.
    package static let dataAddress: UInt64 = 0x100000
    /// The initial register file: 65 slots (x0...x31, f0...f31, fcsr), read by the prologue.
    package static let initialState = dataAddress
    /// 4 KiB the body's loads, stores and atomics use.
    package static let scratch = dataAddress + 0x1000
    /// Bytes in the scratch area.
    package static let scratchSize = 4096
    /// The value of `baseRegister`: the middle of the scratch area, so 12-bit offsets reach it all.
    package static let base = scratch + 2048
    /// The final register file, written by the epilogue (same layout as `initialState`).
    package static let dump = dataAddress + 0x2000
    /// Bytes of a register file: 65 slots.
    package static let stateSize = 65 * 8
    /// `a5`: holds `base` throughout; the body never writes it. It is a register of the
    /// compressed x8...x15 set, so c.lw/c.sd and friends can use it as their base too.
    package static let baseRegister = 15
    /// `base + savedSlot`: where the epilogue parks x1; the body never touches these 8 bytes.
    package static let savedSlot = 2040
    /// The rounds left of a program with `repetitions > 1`, past the dump area.
    package static let repeatCounter = dump + 0x400
}
