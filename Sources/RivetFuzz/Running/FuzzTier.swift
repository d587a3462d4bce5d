import Rivet

/// One way of running a program that the fuzzer compares with the others: an execution tier
/// and its tier-up threshold.
package struct FuzzTier: Sendable, Equatable {
    /// Its name in reports: `interp`, `baseline`, `auto`.
    package var name: String
    /// The tier.
    package var tier: ExecutionTier
    /// Executions of a block before `auto` compiles it (fixed, not adapted to the queue).
    package var threshold: UInt32

    /// A tier named `name`.
    package init(_ name: String, _ tier: ExecutionTier, threshold: UInt32) {
        self.name = name
        self.tier = tier
        self.threshold = threshold
    }

    /// Every tier: the interpreter (the reference), the baseline JIT compiling every block at
    /// once, `auto` compiling blocks after two executions, so that programs switch between
    /// interpreted and compiled code as they run, and the optimizing tier compiling every block
    /// it can at once.
    package static let all: [FuzzTier] = [
        FuzzTier("interp", .interpreter, threshold: 50),
        FuzzTier("baseline", .baseline, threshold: 50),
        FuzzTier("auto", .auto, threshold: 2),
        FuzzTier("opt", .optimizing, threshold: 50),
    ]
}
