/// How a guest run ended.
public enum ExitReason: Equatable, Sendable {
    /// The guest called exit or exit_group with this status.
    case exited(Int32)
    /// The guest was killed by a signal (its own raise or abort, or a fault it did not
    /// handle). `detail` says what happened for faults and illegal instructions.
    case signaled(Int32, detail: String?)
    /// The instruction limit was reached.
    case instructionLimitReached
    /// The wall-time limit was reached.
    case timeLimitReached

    /// The status a shell would report: the exit status, or 128 + the signal number.
    /// Limits report 124, like `timeout(1)`.
    public var shellStatus: Int32 {
        switch self {
        case .exited(let status): status & 0xff
        case .signaled(let signal, _): 128 + signal
        case .instructionLimitReached, .timeLimitReached: 124
        }
    }
}
