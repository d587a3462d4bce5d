#if canImport(Glibc)
import Glibc
#endif
import CRivetHost
import RivetMachine

/// A new program image for execve, read and checked by the syscall layer, to be loaded by the
/// virtual machine.
public struct ExecImage {
    /// The program's file (an ELF file; scripts were already turned into their interpreter).
    public var file: ProgramFile
    /// Its host path (what /proc/self/exe names) and the guest path it was found by.
    public var hostPath: String
    public var guestPath: String
    public var arguments: [String]
    public var environment: [String]
}

extension LinuxProcess {
    // MARK: fork

    /// clone without CLONE_THREAD, fork, vfork: a host fork of the whole virtual machine. The
    /// child is a copy with only the calling thread, as on Linux; vfork runs as fork (the
    /// parent does not wait; memory is not shared, which programs may not rely on anyway).
    func cloneProcess(
        flags: UInt64, stack: UInt64, parentTID: UInt64, tls: UInt64, childTID: UInt64, _ hart: HartState
    ) -> SyscallResult {
        let unsupported = CloneFlag.thread | CloneFlag.sighand | 0x8000 /* CLONE_PARENT */ | 0x2000_0000 /* NEWPID */
            | 0x1000 /* CLONE_PIDFD */
        guard flags & unsupported == 0 else {
            warnOnce("clone \(flags)", "clone with flags 0x\(String(flags, radix: 16)) is not supported; returning -EINVAL")
            return .einval
        }
        if flags & CloneFlag.vm != 0, flags & CloneFlag.vfork == 0 {
            // Sharing memory between processes cannot be had from a host fork.
            warnOnce("clone vm", "clone with CLONE_VM but neither CLONE_THREAD nor CLONE_VFORK is not supported; returning -EINVAL")
            return .einval
        }
        let pid = forkHost()
        guard pid >= 0 else { return .value(Int64(pid)) }
        if pid > 0 {
            children.insert(pid)
            if flags & CloneFlag.parentSetTID != 0 { try? memory.store(UInt32(pid), at: parentTID) }
            return .value(Int64(pid))
        }
        // The child: only this thread is left, and no timer (POSIX: not inherited).
        timers.afterForkInChild()
        timerClocks = [:]
        isForkedChild = true
        children = []
        current.tid = Int64(getpid())
        threads = [current.tid: current]
        processPending = 0
        if stack != 0 { hart[x: 2] = stack }
        if flags & CloneFlag.setTLS != 0 { hart[x: 4] = tls }
        if flags & CloneFlag.childSetTID != 0 { try? memory.store(UInt32(truncatingIfNeeded: current.tid), at: childTID) }
        current.clearChildTID = flags & CloneFlag.childClearTID != 0 ? childTID : 0
        return .value(0)
    }

    // MARK: wait

    /// wait4(pid, status, options, rusage): the guest's children are host processes, so the
    /// host's wait4 answers, without the lock (`struct rusage` has one layout on both).
    func wait4(_ args: SyscallArguments) -> SyscallResult {
        var status: Int32 = 0
        var usage = rusage()
        let pid = Int32(truncatingIfNeeded: args[0])
        let options = Int32(truncatingIfNeeded: args[2])
        let result = blocking { HostIO.wait4(pid, &status, options: options, &usage) }
        if result < 0 { return .value(Int64(result)) }
        if result > 0 {
            // Exited (low 7 bits 0) or killed (low 7 bits a signal), not stopped or continued.
            let low = status & 0x7f
            if low != 0x7f, status != 0xffff { children.remove(Int32(result)) }
            do {
                if args[1] != 0 { try memory.store(UInt32(bitPattern: status), at: args[1]) }
                if args[3] != 0 { try withUnsafeBytes(of: &usage) { try memory.write(Array($0), at: args[3]) } }
            } catch { return .efault }
        }
        return .value(Int64(result))
    }

    /// waitid(which, id, infop, options, rusage): the host's (`siginfo_t` has one layout).
    func waitid(_ args: SyscallArguments) -> SyscallResult {
        var info = siginfo_t()
        var usage = rusage()
        let which = Int32(truncatingIfNeeded: args[0])
        let id = Int32(truncatingIfNeeded: args[1])
        let options = Int32(truncatingIfNeeded: args[3])
        let result = blocking { rivet_waitid(which, id, &info, options, &usage) }
        if result < 0 { return .value(Int64(result)) }
        do {
            if args[2] != 0 { try withUnsafeBytes(of: &info) { try memory.write(Array($0.prefix(128)), at: args[2]) } }
            if args[4] != 0 { try withUnsafeBytes(of: &usage) { try memory.write(Array($0), at: args[4]) } }
        } catch { return .efault }
        return .value(0)
    }

    // MARK: Process groups and sessions

    /// setpgid, getpgid, getsid, setsid: the host's, since guest processes are host processes.
    func processGroupSyscall(_ number: Int, _ args: SyscallArguments) -> SyscallResult {
        let pid = pid_t(truncatingIfNeeded: args[0])
        switch number {
        case 154: return .host(Glibc.setpgid(pid, pid_t(truncatingIfNeeded: args[1])))
        case 155: return .host(Glibc.getpgid(pid))
        case 156: return .host(Glibc.getsid(pid))
        default: return .host(Glibc.setsid())  // 157
        }
    }

    /// kill to another guest process: only to the children this process made (and their
    /// process groups), never to a host process outside the guest's own tree.
    func signalOtherProcess(_ target: Int64, _ signal: Int32) -> SyscallResult? {
        guard target != pid, target != 0, target != -1 else { return nil }
        let child = Int32(truncatingIfNeeded: abs(target))
        guard children.contains(child) || (target < 0 && -target == pid) else {
            return target == -pid ? nil : .value(-Errno.EPERM)
        }
        guard signal >= 0, signal <= 64 else { return .einval }
        return .host(Glibc.kill(pid_t(truncatingIfNeeded: target), signal))
    }

    // MARK: execve

    /// execve(path, argv, envp) and execveat(dirfd, path, argv, envp, flags): replaces the
    /// program. Scripts starting with `#!` run their interpreter (found in the guest's view,
    /// as every path); only RISC-V ELF files are run — never a host binary. On success the
    /// hart is at the new program's entry.
    func execve(path pathAddress: UInt64, argv: UInt64, envp: UInt64, directory: Int32? = nil, flags: UInt64 = 0)
        -> SyscallResult
    {
        var path: String
        let arguments: [String]
        let environment: [String]
        do {
            path = String(decoding: try memory.readCString(at: pathAddress, maxLength: 4096), as: UTF8.self)
            arguments = try readStringArray(argv)
            environment = try readStringArray(envp)
        } catch let error as SandboxError {
            return .value(-error.errno)
        } catch {
            return .efault
        }
        if let directory, !path.hasPrefix("/") {
            // execveat relative to a directory descriptor (AT_FDCWD is the working directory).
            if directory != -100 {
                guard let file = files[directory] else { return .ebadf }
                if path.isEmpty, flags & 0x1000 != 0 { path = file.guestPath }  // AT_EMPTY_PATH
                else { path = file.guestPath + "/" + path }
            }
        }
        var image = ExecImage(
            file: ProgramFile(bytes: []), hostPath: "", guestPath: path, arguments: arguments, environment: environment)
        // The path as the caller wrote it: what a script's interpreter receives.
        var requested = path
        for _ in 0..<ScriptHeader.maxDepth {
            switch openExecutable(requested) {
            case .failure(let error): return .value(-error.errno)
            case .success(let (file, hostPath, guestPath)):
                image.file = file
                image.hostPath = hostPath
                image.guestPath = guestPath
            }
            guard ScriptHeader.isScript(image.file.head) else {
                let result = replaceImage(image)
                return result == 0 ? .outcome(.resumeAtPC) : .value(result)
            }
            // "#!interpreter [one argument]": argv becomes interpreter, [argument,] script, argv[1...].
            guard let header = ScriptHeader(image.file.head) else { return .value(-Errno.ENOEXEC) }
            image.arguments = header.arguments(script: requested, rest: image.arguments.dropFirst())
            requested = header.interpreter
        }
        return .value(-Errno.ELOOP)
    }

    /// The executable at guest path `path`, open: it must be a regular file the guest may
    /// execute. `/proc/self/exe` is the running program (busybox runs its applets so).
    private func openExecutable(_ path: String) -> Result<(ProgramFile, String, String), SandboxError> {
        let resolution: Sandbox.Resolution
        switch filesystem.resolve(path) {
        case .failure(let error): return .failure(error)
        case .success(let found): resolution = found
        }
        let hostPath: String
        let guestPath: String
        let fd: Int32
        switch resolution.target {
        case .host(let path, _, _):
            (hostPath, guestPath) = (path, resolution.guestPath)
            fd = HostFileSystem.open(hostPath, O_RDONLY)
        case .emulated(.executableLink):
            // The file the guest is running, which it may run again wherever it lies.
            (hostPath, guestPath) = (Sandbox.canonical(configuration.executablePath), executableGuestPath)
            fd = Glibc.open(hostPath, O_RDONLY | O_CLOEXEC | O_NOCTTY)
        default:
            return .failure(SandboxError(Errno.EACCES))
        }
        guard fd >= 0 else { return .failure(SandboxError(Int64(errno))) }
        defer { close(fd) }
        var info = stat()
        guard Glibc.fstat(fd, &info) == 0 else { return .failure(SandboxError(Errno.EACCES)) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            return .failure(SandboxError(Errno.EACCES))
        }
        guard Glibc.access(hostPath, X_OK) == 0 else { return .failure(SandboxError(Errno.EACCES)) }
        guard info.st_size <= 1 << 30 else { return .failure(SandboxError(Errno.ENOMEM)) }
        guard let file = ProgramFile(duplicating: fd) else { return .failure(SandboxError(Errno.EIO)) }
        return .success((file, hostPath, guestPath))
    }

    /// A NULL-terminated array of C strings (argv, envp): at most ARG_MAX bytes in all.
    private func readStringArray(_ address: UInt64) throws -> [String] {
        guard address != 0 else { return [] }
        var strings: [String] = []
        var total = 0
        for k in 0..<UInt64(65536) {
            let pointer = try memory.load(UInt64.self, at: address &+ 8 &* k)
            if pointer == 0 { return strings }
            let bytes = try memory.readCString(at: pointer, maxLength: 131072)
            total += bytes.count + 1 + 8
            guard total <= 2 << 20 else { throw SandboxError(Errno.E2BIG) }
            strings.append(String(decoding: bytes, as: UTF8.self))
        }
        throw SandboxError(Errno.E2BIG)
    }

    /// What execve resets in the process, once the new image is certain to load: descriptors
    /// marked close-on-exec close, handled signals return to their default action, the
    /// alternate stack and the thread's exit futex and robust list are forgotten, and the
    /// other threads end.
    public func resetForExec(_ image: ExecImage) {
        // Linux ends the other threads first: none may run the old code, or finish a syscall
        // in the new image, or see what exec closes.
        endOtherThreadsForExec()
        for fd in files.descriptors where files.closeOnExec(fd) { files.remove(fd) }
        for k in 1..<signals.actions.count where signals.actions[k].handler != SignalAction.ignoreHandler {
            signals.actions[k] = SignalAction()
        }
        signals.alternateStack = (0, 0, 2)
        current.clearChildTID = 0
        current.robustList = (0, 0)
        timers.deletePOSIXTimers()
        timerClocks = timerClocks.filter { $0.key == GuestTimers.realTimer }
        // The thread that calls execve takes the process's id (Linux: it becomes the leader).
        current.tid = pid
        threads = [current.tid: current]
        configuration.arguments = image.arguments
        configuration.environment = image.environment
        configuration.executablePath = image.hostPath
        current.name = Array((image.guestPath.split(separator: "/").last.map { Array($0.utf8) } ?? []).prefix(15))
        for k in 0..<HartState.Slot.reservation { current.hart.slots[k] = 0 }
        current.hart.slots[HartState.Slot.reservation] = HartState.noReservation
    }
}
