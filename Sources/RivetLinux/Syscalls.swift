import RivetMachine

extension LinuxProcess {
    /// Routes a syscall to its family. Each family's handler returns nil for numbers it does
    /// not own. An unsupported syscall fails with ENOSYS and one warning naming it.
    func dispatch(_ number: Int, _ args: SyscallArguments, _ hart: HartState) -> SyscallResult {
        if let result = eventFileSyscall(number, args, hart) { return result }  // before the file calls: signalfd reads
        if let result = fileSyscall(number, args) { return result }
        if let result = memorySyscall(number, args) { return result }
        if let result = processSyscall(number, args, hart) { return result }
        if let result = timeSyscall(number, args, hart) { return result }
        if let result = timerSyscall(number, args) { return result }
        if let result = signalSyscall(number, args, hart) { return result }
        if let result = systemSyscall(number, args, hart) { return result }
        if let result = pollSyscall(number, args, hart) { return result }
        if let result = socketSyscall(number, args, hart) { return result }
        warnOnce(
            "syscall \(number)",
            "unsupported syscall \(number) (\(SyscallNames.name(number))) at pc 0x\(String(hart.pc, radix: 16)); returning -ENOSYS"
        )
        return .value(-Errno.ENOSYS)
    }
}

extension SyscallResult {
    /// The result of a host call that returns -1 and sets errno.
    static func host(_ value: Int) -> SyscallResult {
        .value(value < 0 ? -Int64(errno) : Int64(value))
    }

    static func host(_ value: Int32) -> SyscallResult { host(Int(value)) }

    static let efault = SyscallResult.value(-Errno.EFAULT)
    static let einval = SyscallResult.value(-Errno.EINVAL)
    static let ebadf = SyscallResult.value(-Errno.EBADF)
}

#if canImport(Glibc)
import Glibc
#endif
