/// The bounds of one run.
package struct FuzzLimits: Sendable, Equatable {
    /// Guest instructions before the run is stopped.
    package var instructions: UInt64 = 3_000_000
    /// Wall time before the run is stopped.
    package var wallTime: Duration = .seconds(2)
    /// Guest memory.
    package var memoryBytes: UInt64 = 256 << 20

    /// The default limits: 3 million instructions, 2 seconds, 256 MiB.
    package init() {}
}
