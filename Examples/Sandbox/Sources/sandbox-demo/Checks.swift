import Synchronization

/// Checks that the demo's guests did what they should: every mismatch is printed, and counted
/// so that the demo exits with status 1 (it runs in CI: `.ci/run`).
enum Checks {
    private static let failures = Atomic<Int>(0)

    /// The number of checks that failed so far.
    static var failed: Int { failures.load(ordering: .relaxed) }

    /// Records a failure, saying what was expected and what came, unless `actual == expected`.
    static func expect<Value: Equatable>(
        _ actual: Value, _ expected: Value, _ what: String
    ) {
        guard actual != expected else { return }
        failures.add(1, ordering: .relaxed)
        print("  MISMATCH: \(what): got \(String(reflecting: actual)), expected \(String(reflecting: expected))")
    }

    /// Records a failure unless `condition` holds.
    static func expect(_ condition: Bool, _ what: String) {
        guard !condition else { return }
        failures.add(1, ordering: .relaxed)
        print("  MISMATCH: \(what)")
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
