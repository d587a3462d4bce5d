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
    /// Instructions executed by the interpreter and by compiled code.
    public var interpretedInstructions: UInt64 = 0
    public var compiledInstructions: UInt64 = 0
    /// Blocks the baseline JIT compiled, their guest instructions, and the host code bytes.
    public var compiledBlocks: UInt64 = 0
    public var compiledGuestInstructions: UInt64 = 0
    public var codeBytes: UInt64 = 0
    /// Compile time: total, mean and 99th percentile per block.
    public var compileTime: Duration = .zero
    public var meanCompileMicroseconds: Double = 0
    public var p99CompileMicroseconds: Double = 0
    /// Exits from compiled code to the run loop, and jumps between compiled blocks that
    /// did not leave compiled code (chained jumps and jump-cache hits).
    public var exitsToRunLoop: UInt64 = 0
    public var chainedTransfers: UInt64 = 0
    /// Indirect jumps in compiled code, and how many found their target in the jump cache.
    public var indirectJumps: UInt64 = 0
    public var jumpCacheHits: UInt64 = 0
    /// Faults in compiled code, of which writes to pages holding compiled code.
    public var compiledCodeFaults: UInt64 = 0
    public var codeWriteFaults: UInt64 = 0

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
        ]
        if compiledBlocks > 0 || compiledInstructions > 0 {
            let total = max(1, interpretedInstructions + compiledInstructions)
            let hitRate = indirectJumps == 0 ? 0 : Double(jumpCacheHits) / Double(indirectJumps) * 100
            lines += [
                "per tier          interpreter \(interpretedInstructions) (\(formatted(Double(interpretedInstructions) / Double(total) * 100, digits: 1))%), baseline \(compiledInstructions) (\(formatted(Double(compiledInstructions) / Double(total) * 100, digits: 1))%)",
                "compiled          \(compiledBlocks) blocks, \(compiledGuestInstructions) guest instructions, \(codeBytes) host bytes",
                "compile time      \(formatted(Double(compileTime.components.seconds) * 1000 + Double(compileTime.components.attoseconds) * 1e-15, digits: 2)) ms total, \(formatted(meanCompileMicroseconds, digits: 1)) µs mean, \(formatted(p99CompileMicroseconds, digits: 1)) µs p99",
                "exits             \(exitsToRunLoop) to the run loop, \(chainedTransfers) chained",
                "jump cache        \(indirectJumps) indirect jumps, \(formatted(hitRate, digits: 1))% hits",
                "faults in JIT     \(compiledCodeFaults) (\(codeWriteFaults) writes to compiled code)",
            ]
        }
        lines.append("syscalls          \(syscalls.values.reduce(0, +))")
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
