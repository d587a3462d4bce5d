/// Why a guest run stopped.
///
/// A guest that exited, was killed or was cancelled is over: `run()` returns the same reason
/// again. The other reasons are pauses: the guest stands where it stopped, its memory and
/// registers can be read and changed, and `run()` goes on from there (after more fuel, for an
/// instruction limit).
public enum ExitReason: Equatable, Sendable {
    /// The guest called exit or exit_group with this status.
    case exited(Int32)
    /// The guest was killed by a signal (its own raise or abort, or a fault it did not
    /// handle). `detail` says what happened for faults and illegal instructions.
    case signaled(Int32, detail: String?)
    /// The guest used up its instructions (`Limits.instructions`, `VirtualMachine.fuel`).
    /// Resumable.
    case instructionLimitReached
    /// The run's wall-time limit (`Limits.wallTime`, counted afresh by each `run()`) passed.
    /// Resumable.
    case timeLimitReached
    /// The embedder paused the guest (`VirtualMachine.pause()`, `RunControl.pause()`, or a host
    /// function's `.pause`). Resumable.
    case paused
    /// The embedder cancelled the run (`RunControl.cancel()`, or the cancellation of the task
    /// awaiting `run()`): the guest is over.
    case cancelled

    /// Whether the guest can go on: `run()` resumes it where it stopped.
    public var isResumable: Bool {
        switch self {
        case .instructionLimitReached, .timeLimitReached, .paused: true
        case .exited, .signaled, .cancelled: false
        }
    }

    /// The status a shell would report: the exit status, or 128 + the signal number.
    /// Limits, pauses and cancellation report 124, like `timeout(1)`.
    public var shellStatus: Int32 {
        switch self {
        case .exited(let status): status & 0xff
        case .signaled(let signal, _): 128 + signal
        case .instructionLimitReached, .timeLimitReached, .paused, .cancelled: 124
        }
    }
}
