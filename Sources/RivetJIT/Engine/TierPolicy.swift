/// When a block moves up a tier (DESIGN.md decisions 4 and 5).
///
/// The interpreter counts block entries and stops at a block whose count crosses the current
/// threshold; the engine then asks for a compile whose priority is the block's hotness (its
/// executions × instructions: the time it takes) times the expected gain of the next tier.
/// Counts decay: every `decayInterval` instructions the accumulated counts halve, so old
/// hotness fades. In adaptive mode the threshold doubles while the compile queue is long and
/// halves back towards its base while the queue is idle; and while the queue is short but the
/// interpreter runs a large share of the instructions and many blocks turn hot — a flat
/// profile: thousands of warm blocks and no hot loop, where every block pays its first
/// `threshold` runs in the interpreter and the transitions around them — it falls fourfold at a
/// time down to `minThreshold`, and stays there: rising back once compiled code ran nearly
/// everything was measured and rejected (the flat profile's long tail of blocks then paid 50
/// interpreted runs each again: 18-27% slower), and a low threshold costs a program with a hot
/// loop next to nothing (its few new blocks are compiled at their second run). Code that runs
/// once, as at start-up, keeps the interpreter busy too, but few of its blocks turn hot: the
/// threshold stays where it is, and that code in the interpreter. Nor does it fall while a
/// process starts (its first `settleInstructions`): the C library's start-up loops turn hot
/// while the interpreter decodes everything else, which looks like a flat profile; a fall there
/// took start-up code run in a few passes down to a threshold of 1, every block compiled (4×
/// the time). A block whose translation keeps being invalidated (self-modifying code: a deopt
/// loop) backs off exponentially: each invalidation doubles the executions it needs before it
/// is compiled again.
public struct TierPolicy: Sendable {
    /// Interpreter executions before a block is compiled by the baseline JIT.
    public var baseThreshold: UInt32
    /// Executions (iterations) before a baseline loop moves to the optimizing tier.
    public var optimizingThreshold: UInt32
    /// Raise and lower the threshold with the queue's length.
    public var adaptive: Bool
    /// Runs of a baseline block after which its code stops counting them (`Engine.sweepCounters`);
    /// 0: it counts every run. At least `2 × optimizingThreshold` (a loop's blocks must be
    /// counted past the optimizing tier's threshold).
    public var countingLimit: UInt32 = 20_000
    /// Baseline blocks count their runs only when asked: entered then at a counting entry
    /// apart from their code, which has no counting instruction. On programs with much warm
    /// code that instruction took 5-9% of the time, even once turned into a `nop`
    /// (Performance.md, thirty-seventh session). Applies to the baseline mode, where the
    /// counts feed only eviction (`UsageTracker`, which asks while the code cache is under
    /// pressure) and the statistics; in `auto` the optimizing tier chooses loops by them. Only
    /// with a `countingLimit`.
    public var countsOnDemand = false
    /// Guest instructions between decays of the hotness counts.
    public var decayInterval: UInt64 = 200_000_000
    /// Expected speed-up of baseline code over the interpreter, in the priority.
    public var baselineGain: Double = 4
    /// Queue length above which the adaptive threshold rises, and the most it rises to.
    public var longQueue = 32
    public var maxThreshold: UInt32 = 1 << 16
    /// The lowest the threshold falls while the interpreter is busy with warm code.
    public var minThreshold: UInt32 = 1
    /// Blocks turning hot between two adjustments for the threshold to fall: warm code, not
    /// code that runs once.
    public var manyTierUps = 4
    /// Share of the instructions since the last adjustment run in the interpreter above which
    /// the threshold falls (the interpreter takes about ten times as long per instruction, so
    /// this is about a third of the time).
    public var busyInterpreterShare = 1.0 / 32
    /// Guest instructions a process runs before the threshold may fall.
    public var settleInstructions: UInt64 = 1_000_000

    /// The threshold now in force.
    public private(set) var threshold: UInt32

    public init(baseThreshold: UInt32 = 50, optimizingThreshold: UInt32 = 10_000, adaptive: Bool = true) {
        self.baseThreshold = max(1, baseThreshold)
        self.optimizingThreshold = optimizingThreshold
        self.adaptive = adaptive
        threshold = max(1, baseThreshold)
    }

    /// Parses `T1=N,T2=M` (either part optional).
    public static func thresholds(_ text: String) -> (t1: UInt32?, t2: UInt32?)? {
        var t1: UInt32? = nil
        var t2: UInt32? = nil
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, let value = UInt32(pair[1]), value > 0 else { return nil }
            switch pair[0].uppercased() {
            case "T1": t1 = value
            case "T2": t2 = value
            default: return nil
            }
        }
        return (t1, t2)
    }

    /// Nanoseconds between adjustments of the threshold.
    public var adaptInterval: UInt64 = 1_000_000
    private var lastAdapt: UInt64 = 0
    private var lastInterpreted: UInt64 = 0
    private var lastExecuted: UInt64 = 0
    private var tierUps = 0
    /// The instructions executed when the process started (nil: at the next adjustment).
    private var origin: UInt64? = 0

    /// Called at every block that turns hot (a tier-up); adjusts the threshold (adaptive
    /// mode), at most once per `adaptInterval`: doubles it while more than `longQueue` requests
    /// wait. While fewer than a quarter of that do, it divides it by four — down to
    /// `minThreshold` — if more than `busyInterpreterShare` of the instructions since the last
    /// adjustment ran in the interpreter, at least `manyTierUps` blocks turned hot and the
    /// process ran `settleInstructions`, or else halves it back towards the base from above.
    /// `interpreted` and `executed` are running totals of the instructions the interpreter ran
    /// and of all instructions. Returns whether the threshold changed.
    ///
    /// (Raising it under code-cache pressure too was measured and rejected: it kept more code in
    /// the interpreter and cost more than the evictions it saved.)
    public mutating func adapt(queueLength: Int, interpreted: UInt64 = 0, executed: UInt64 = 0, now: UInt64) -> Bool {
        tierUps += 1
        guard adaptive, now &- lastAdapt >= adaptInterval else { return false }
        lastAdapt = now
        let share = Double(interpreted &- lastInterpreted) / Double(max(1, executed &- lastExecuted))
        if origin == nil { origin = executed }
        let settled = executed &- (origin ?? 0) >= settleInstructions
        let warm = tierUps >= manyTierUps && settled
        lastInterpreted = interpreted
        lastExecuted = executed
        tierUps = 0
        let old = threshold
        if queueLength > longQueue {
            threshold = min(maxThreshold, threshold * 2)
        } else if queueLength < longQueue / 4 {
            if share > busyInterpreterShare, warm {
                threshold = max(min(minThreshold, baseThreshold), threshold / 4)
            } else if share > busyInterpreterShare {
                // Busy with code that runs once or twice: leave it be.
            } else if threshold > baseThreshold {
                threshold = max(baseThreshold, threshold / 2)
            }
        }
        return threshold != old
    }

    /// Back to the base threshold, for a forked child: the parent's threshold may have fallen
    /// to 1 for its warm code, and a child (a shell's pipeline stage, an applet) runs code the
    /// parent never ran, often a few times and for a few milliseconds. Compiled at its first
    /// run, each block cost more than interpreting it (busybox sh's workload: 11% slower under
    /// `baseline` than under `interp`). A long-lived child with a flat profile lowers it again.
    public mutating func restartAfterFork() {
        guard adaptive else { return }
        threshold = baseThreshold
        tierUps = 0
        origin = nil
    }

    /// The executions a block needs before its next compile after `deopts` invalidations.
    public func backoffThreshold(deopts: Int) -> UInt32 {
        let shift = min(deopts, 16)
        return UInt32(min(UInt64(threshold) << UInt64(shift), UInt64(Int32.max)))
    }

    /// A compile's priority: hotness (executions × instructions) × expected gain.
    public func priority(executions: UInt32, instructions: Int) -> Double {
        Double(max(executions, 1)) * Double(max(instructions, 1)) * baselineGain
    }
}
