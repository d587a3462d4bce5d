#if canImport(Glibc)
import Glibc
#endif
import CRivetHost
import RivetISA
import RivetInterpreter
import RivetJIT
import RivetLinux
import RivetMachine

extension VirtualMachine {
    /// Starts the watchdog of a run (or of a forked child's run), forwarding host signals if
    /// configured.
    func startWatchdog() {
        watchdog = rivet_watchdog_start(process.hart.slots, watchdogDeadline)
        if configuration.forwardsHostSignals, let watchdog {
            rivet_forward_host_signals(watchdog, Self.forwardedSignals)
        }
    }

    /// Forks the host process for a guest fork (called holding the process's lock): the
    /// engine stops its workers and unshares its code cache, the locks other host threads may
    /// hold are taken around the fork, and the child, left with only this thread, closes the
    /// host descriptors other virtual machines' guests hold and gets a watchdog of its own (the
    /// parent's thread is not in it).
    func forkHost() -> Int32 {
        fflush(nil)
        let pid = engine.fork {
            hostThreads.prepareFork()
            process.lock.prepareFork()
            let pid = Glibc.fork()
            let error = errno
            process.lock.afterFork(inChild: pid == 0)
            hostThreads.afterFork(inChild: pid == 0)
            return pid < 0 ? -error : pid
        }
        if pid == 0 {
            // The copies of other machines' guest descriptors (a sibling's pipe would see no
            // hang-up while this child lives).
            rivet_descriptors_close_foreign(process.files.owner)
            // Only this thread came along: the other harts' runners go, and the parent's
            // watchdog thread did not come along (its memory stays, unused).
            engine.keepOnly(hartOf: process.current.hart)
            timeKeeper.abandonInForkedChild()
            // The parent's gdb debugs the parent.
            detachDebugger()
            streams.closeInForkedChild()
            startWatchdog()
        }
        return pid
    }

    /// Ends a forked child's host process as its guest ended: with its exit status, or killed by
    /// the same signal (so that the guest parent's wait4 sees WIFSIGNALED), without a core file.
    static func endForkedChild(_ reason: ExitReason) -> Never {
        fflush(nil)
        if case .signaled(let signal, _) = reason {
            var none = rlimit(rlim_cur: 0, rlim_max: 0)
            setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &none)
            Glibc.signal(signal, SIG_DFL)
            var only = sigset_t()
            sigemptyset(&only)
            sigaddset(&only, signal)
            pthread_sigmask(SIG_UNBLOCK, &only, nil)
            raise(signal)
        }
        _exit(reason.shellStatus)
    }

    /// execve: loads `image` in place of the running program. Everything that can fail for a
    /// reason the guest should hear (not an ELF for RISC-V, a missing interpreter) is checked
    /// first; past that point, the old image is gone and a failure kills the process, as on Linux.
    /// - Returns: 0 with the hart at the new entry, or -errno with nothing changed.
    func replaceImage(_ image: ExecImage) -> Int64 {
        let elf: ELFFile
        do { elf = try ELFFile(file: image.file, addressSpaceSize: GuestMemory.addressSpaceSize) } catch {
            return -Errno.ENOEXEC
        }
        var interpreterELF: (ELFFile, path: String)? = nil
        if let path = elf.interpreter {
            guard
                let file = try? Self.openInterpreter(path, of: image.guestPath, in: process.filesystem, sysroot: configuration.sysroot),
                let parsed = try? ELFFile(file: file, addressSpaceSize: GuestMemory.addressSpaceSize)
            else { return -Errno.ENOENT }
            interpreterELF = (parsed, path)
        }
        // The point of no return.
        process.resetForExec(image)
        // Code of the old image where the new one maps its executable segments may be the same
        // bytes (a shell's children exec the shell's own program, `/proc/self/exe`): it is
        // compared once the new image is in place, and what matches keeps its decoded blocks
        // and translations.
        let snapshot =
            engine.isSingleHart
            ? memory.codeSnapshot(of: Loader.executableRanges(of: elf, interpreter: interpreterELF?.0)) : nil
        engine.programReplaced(keepingCode: snapshot != nil)
        do {
            try memory.unmap(at: GuestAddress(0), size: GuestMemory.addressSpaceSize, keepingCodeOf: snapshot)
        } catch {}
        memory.synchronizeInstructionFetch()
        program = elf
        defer {
            if let snapshot {
                let kept = engine.replacingProgram { memory.restoreCode(snapshot) { engine.programReplaced() } }
                codePagesKeptAtExec += UInt64(kept)
            }
        }
        do {
            let loaded = try Loader.load(elf, path: image.hostPath, interpreter: interpreterELF, into: memory)
            try process.start(loaded, hart: process.current.hart)
        } catch {
            process.configuration.diagnostics("rivet: execve of \(image.guestPath) failed after the old image was gone: \(error.message)")
            return -Errno.ENOMEM
        }
        return 0
    }
}
