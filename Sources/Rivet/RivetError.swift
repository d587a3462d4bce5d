/// Why a guest could not be started, or an access to its state was refused.
public struct RivetError: Error, Equatable, CustomStringConvertible, Sendable {
    /// What kind of failure it is.
    public enum Code: String, Sendable {
        /// The program file could not be read.
        case unreadableProgram
        /// The program is not a valid RISC-V executable.
        case invalidProgram
        /// The program needs an interpreter that the sysroot does not have.
        case missingInterpreter
        /// The host could not reserve the guest's address space.
        case outOfMemory
        /// The configuration is inconsistent (a missing granted directory ...).
        case invalidConfiguration
        /// The GDB stub could not listen on its port (`Configuration.debugger`).
        case debuggerUnavailable
        /// A read or write of guest memory that the guest's own mappings do not allow.
        case guestMemoryFault
        /// A register number out of range.
        case invalidRegister
        /// The program has no symbol of that name.
        case noSuchSymbol
        /// A guest call that cannot be made (too many arguments, a guest that is over).
        case invalidCall
        /// A guest call stopped at a limit or a pause before its function returned.
        case callInterrupted
        /// The guest exited or was killed during a call: it is over.
        case guestEnded
        /// The guest cannot be snapshotted now (it is over, has threads or open files).
        case snapshotUnavailable
    }

    /// What kind of failure it is.
    public var code: Code
    /// One line saying what is wrong, naming the file involved.
    public var message: String

    /// An error of kind `code`, saying `message`.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
