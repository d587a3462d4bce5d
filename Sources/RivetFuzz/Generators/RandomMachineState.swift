/// The architectural state a program starts from or ends with.
package struct RandomMachineState: Equatable {
    /// x0...x31 (x0 is always 0).
    package var x = [UInt64](repeating: 0, count: 32)
    /// f0...f31, as bits.
    package var f = [UInt64](repeating: 0, count: 32)
    /// frm and fflags.
    package var fcsr: UInt64 = 0
    /// The scratch area.
    package var scratch = [UInt8](repeating: 0, count: RandomInstructionLayout.scratchSize)

    /// The 65 slots as the prologue reads them and the epilogue writes them.
    package var registerBytes: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(RandomInstructionLayout.stateSize)
        for value in x + f + [fcsr] {
            for k in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(k)))) }
        }
        return bytes
    }

    /// Parses the epilogue's output: the register slots, then the scratch area.
    package init?(dump: [UInt8]) {
        guard dump.count == RandomInstructionLayout.stateSize + RandomInstructionLayout.scratchSize else { return nil }
        func slot(_ n: Int) -> UInt64 {
            var value: UInt64 = 0
            for k in 0..<8 { value |= UInt64(dump[8 * n + k]) << (8 * UInt64(k)) }
            return value
        }
        x = (0..<32).map(slot)
        x[0] = 0
        f = (0..<32).map { slot(32 + $0) }
        fcsr = slot(64)
        scratch = Array(dump[RandomInstructionLayout.stateSize...])
    }

    /// All zeros.
    package init() {}
}
