import Rivet

/// One way of running a program that the fuzzer compares with the others: an execution tier
/// and its tier-up threshold.
package struct FuzzTier: Sendable, Equatable {
    /// Its name in reports: `interp`, `baseline`, `auto`, `opt`, `auto-t2`.
    package var name: String
    /// The tier.
    package var tier: ExecutionTier
    /// Executions of a block before `auto` compiles it (fixed, not adapted to the queue).
    package var threshold: UInt32
    /// `auto`'s tier-2 threshold and slice (`Configuration.optimizingThreshold`,
    /// `sliceInstructions`), when not the defaults, under which a short program never reaches
    /// tier 2; with them, regions compile on the guest's thread (`optimizesOnGuestThread`).
    package var optimizingThreshold: UInt32? = nil
    package var slice: UInt64? = nil

    /// A tier named `name`.
    package init(_ name: String, _ tier: ExecutionTier, threshold: UInt32, optimizingThreshold: UInt32? = nil, slice: UInt64? = nil) {
        self.name = name
        self.tier = tier
        self.threshold = threshold
        self.optimizingThreshold = optimizingThreshold
        self.slice = slice
    }

    /// Every tier: the interpreter (the reference), the baseline JIT compiling every block at
    /// once, `auto` compiling blocks after two executions, so that programs switch between
    /// interpreted and compiled code as they run, the optimizing tier compiling every block it
    /// can at once, and `auto` with slices of 25 instructions, a tier-2 threshold of 2 and
    /// regions compiled on the guest's thread, so that loops of a short program move to tier 2
    /// as a long program's do (profiled: regions formed from hot blocks, indirect jumps
    /// compared with the targets they went to, entered at loop headers from running code).
    package static let all: [FuzzTier] = [
        FuzzTier("interp", .interpreter, threshold: 50),
        FuzzTier("baseline", .baseline, threshold: 50),
        FuzzTier("auto", .auto, threshold: 2),
        FuzzTier("opt", .optimizing, threshold: 50),
        FuzzTier("auto-t2", .auto, threshold: 2, optimizingThreshold: 2, slice: 25),
    ]

    /// Sets `configuration` up for this tier: the tier and its thresholds (fixed, not adapted),
    /// and for one with an optimizing threshold, regions compiled on the guest's thread.
    package func configure(_ configuration: inout Configuration) {
        configuration.tier = tier
        configuration.tierUpThreshold = threshold
        configuration.adaptsThresholds = false
        if let optimizingThreshold {
            configuration.optimizingThreshold = optimizingThreshold
            configuration.optimizesOnGuestThread = true
        }
        if let slice { configuration.sliceInstructions = slice }
    }
}
