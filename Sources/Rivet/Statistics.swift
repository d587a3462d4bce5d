/// Figures about a guest run.
public struct Statistics: Equatable, Sendable {
    /// Guest instructions retired.
    public var instructions: UInt64
    /// Wall-clock time spent in `run()`.
    public var wallTime: Duration
    /// Calls per syscall name.
    public var syscalls: [String: UInt64]
    /// Blocks the interpreter decoded.
    public var decodedBlocks: UInt64
    /// Decoded blocks dropped because guest code changed.
    public var invalidatedBlocks: UInt64

    /// Guest instructions per second, in millions.
    public var mips: Double {
        let seconds = Double(wallTime.components.seconds) + Double(wallTime.components.attoseconds) * 1e-18
        return seconds > 0 ? Double(instructions) / seconds / 1e6 : 0
    }

    /// A short human-readable summary, one figure per line.
    public var summary: String {
        let seconds = Double(wallTime.components.seconds) + Double(wallTime.components.attoseconds) * 1e-18
        var lines = [
            "instructions      \(instructions)",
            "wall time         \(formatted(seconds, digits: 3)) s",
            "speed             \(formatted(mips, digits: 1)) MIPS",
            "blocks decoded    \(decodedBlocks) (\(invalidatedBlocks) invalidated)",
            "syscalls          \(syscalls.values.reduce(0, +))",
        ]
        for (name, count) in syscalls.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) {
            lines.append("  \(name.padded(to: 18)) \(count)")
        }
        return lines.joined(separator: "\n")
    }
}

/// `value` with `digits` decimals, without Foundation.
func formatted(_ value: Double, digits: Int) -> String {
    guard value.isFinite else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    let whole = UInt64(scaled / scale)
    var fraction = String(UInt64(scaled) - whole * UInt64(scale))
    while fraction.count < digits { fraction = "0" + fraction }
    return (value < 0 ? "-" : "") + String(whole) + (digits > 0 ? "." + fraction : "")
}

extension String {
    /// The string padded with spaces on the right to at least `width` characters.
    func padded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
