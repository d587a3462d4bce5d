#if canImport(Glibc)
import Glibc
#endif
import RivetISA
import RivetMachine

extension LinuxProcess {
    /// The guest's process id: the host process's, as with qemu-user.
    public var pid: Int64 { Int64(getpid()) }

    func processSyscall(_ number: Int, _ args: SyscallArguments, _ hart: HartState) -> SyscallResult? {
        switch number {
        case 93:  // exit: the calling thread
            return .outcome(exitThread(status: Int32(truncatingIfNeeded: args[0] & 0xff)))
        case 94:  // exit_group
            return .outcome(.exit(Int32(truncatingIfNeeded: args[0] & 0xff)))
        case 172: return .value(pid)  // getpid
        case 178: return .value(current.tid)  // gettid
        case 220: return clone(args, hart)
        case 435: return clone3(args, hart)
        case 98: return futex(args)
        case 173: return .value(Int64(getppid()))  // the parent guest is the host parent
        case 174: return .value(Int64(identity.uid))
        case 175: return .value(Int64(identity.euid))
        case 176: return .value(Int64(identity.gid))
        case 177: return .value(Int64(identity.egid))
        case 148, 150:  // getresuid, getresgid
            let ids = number == 148 ? [identity.uid, identity.euid, identity.uid] : [identity.gid, identity.egid, identity.gid]
            do {
                for (k, id) in ids.enumerated() { try memory.store(UInt32(id), at: args[k]) }
            } catch { return .efault }
            return .value(0)
        case 158: return .value(0)  // getgroups: none
        case 96:  // set_tid_address
            current.clearChildTID = args[0]
            return .value(current.tid)
        case 99:  // set_robust_list(head, size)
            guard args[1] == 24 else { return .einval }
            current.robustList = (args[0], args[1])
            return .value(0)
        case 100:  // get_robust_list(tid, head_ptr, size_ptr)
            guard let thread = args[0] == 0 ? current : threads[Int64(args.int(0))] else { return .value(-Errno.ESRCH) }
            do {
                try memory.store(thread.robustList.head, at: args[1])
                try memory.store(UInt64(24), at: args[2])
            } catch { return .efault }
            return .value(0)
        case 293: return rseq(args)
        case 160: return uname(args[0])
        case 163: return prlimit(resource: args[0], new: 0, old: args[1])  // getrlimit
        case 164: return prlimit(resource: args[0], new: args[1], old: 0)  // setrlimit
        case 261:  // prlimit64
            guard args[0] == 0 || Int64(bitPattern: args[0]) == pid else { return .value(-Errno.ESRCH) }
            return prlimit(resource: args[1], new: args[2], old: args[3])
        case 123:  // sched_getaffinity: every hart (`hartCount`, one per host processor).
            let size = args[1]
            guard size >= 8, size & 7 == 0 else { return .einval }
            let harts = UInt64(Self.hartCount)
            let mask: UInt64 = harts >= 64 ? .max : (1 << harts) - 1
            do { try memory.store(mask, at: args[2]) } catch { return .efault }
            return .value(8)
        case 122: return .value(0)  // sched_setaffinity
        case 124:  // sched_yield
            yield()
            return .value(0)
        case 278: return getrandom(args)
        case 179: return sysinfo(args[0])
        case 166:  // umask
            let old = umask
            umask = UInt32(args[0] & 0o777)
            return .value(Int64(old))
        case 167: return prctl(args)
        case 165: return getrusage(args)
        case 258: return hwprobe(args)
        case 259:  // riscv_flush_icache(start, end, flags)
            guard args[2] & ~1 == 0 else { return .einval }
            flushInstructionCache(args[0], args[1])
            return .value(0)
        case 154, 155, 156, 157: return processGroupSyscall(number, args)  // setpgid, getpgid, getsid, setsid
        case 260: return wait4(args)
        case 95: return waitid(args)
        case 221: return execve(path: args[0], argv: args[1], envp: args[2])
        case 281:  // execveat(dirfd, path, argv, envp, flags)
            return execve(path: args[1], argv: args[2], envp: args[3], directory: args.int(0), flags: args[4])
        case 140, 141: return .value(0)  // setpriority, getpriority (nice 0 -> 20 - 0)
        default: return nil
        }
    }

    private func rseq(_ args: SyscallArguments) -> SyscallResult {
        // struct rseq: cpu_id_start, cpu_id (u32 each). One hart: CPU 0. Unregistering (flag 1) works.
        let address = args[0]
        let length = args[1]
        guard length >= 32, address & 31 == 0 else { return .einval }
        if args[2] & 1 != 0 { return .value(0) }
        do {
            try memory.store(UInt32(0), at: address)
            try memory.store(UInt32(0), at: address &+ 4)
        } catch { return .efault }
        return .value(0)
    }

    private func uname(_ address: UInt64) -> SyscallResult {
        var host = utsname()
        Glibc.uname(&host)
        func field(_ value: String) -> [UInt8] {
            var bytes = Array(value.utf8.prefix(64))
            bytes += [UInt8](repeating: 0, count: 65 - bytes.count)
            return bytes
        }
        func string<T>(_ tuple: T) -> String {
            withUnsafeBytes(of: tuple) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        let bytes =
            field("Linux") + field(string(host.nodename)) + field(string(host.release)) + field(string(host.version))
            + field("riscv64") + field("(none)")
        do { try memory.write(bytes, at: address) } catch { return .efault }
        return .value(0)
    }

    private func prlimit(resource: UInt64, new: UInt64, old: UInt64) -> SyscallResult {
        let infinity = UInt64.max
        let current: (UInt64, UInt64)
        switch resource {
        case 3: current = (AddressLayout.stackSize, infinity)  // RLIMIT_STACK
        case 7: current = (UInt64(files.limit), UInt64(openFilesHardLimit))  // RLIMIT_NOFILE
        case 9: current = (memory.limit, memory.limit)  // RLIMIT_AS
        case 0, 1, 2, 4, 5, 6, 8, 10, 11, 12, 13, 14, 15:
            var host = rlimit()
            getrlimit(__rlimit_resource_t(UInt32(resource)), &host)
            current = (UInt64(host.rlim_cur), UInt64(host.rlim_max))
        default:
            return .einval
        }
        // Linux checks the new limits before it reports the old ones.
        var requested: (soft: UInt64, hard: UInt64)? = nil
        if new != 0 {
            do {
                requested = (try memory.load(UInt64.self, at: new), try memory.load(UInt64.self, at: new &+ 8))
            } catch { return .efault }
            guard let requested, requested.soft <= requested.hard else { return .einval }
            if resource == 7, requested.hard > UInt64(openFilesHardLimit) { return .value(-Errno.EPERM) }
        }
        if old != 0 {
            do {
                try memory.store(current.0, at: old)
                try memory.store(current.1, at: old &+ 8)
            } catch { return .efault }
        }
        if let requested, resource == 7 {
            openFilesHardLimit = Int(requested.hard)
            files.limit = Int(requested.soft)
        }
        return .value(0)
    }

    private func getrandom(_ args: SyscallArguments) -> SyscallResult {
        let size = Int(min(args[1], 1 << 25))
        guard args[2] & ~7 == 0 else { return .einval }
        do {
            let buffer = try memory.hostBuffer(at: args[0], size: size, access: .write)
            fillRandom(buffer)
        } catch { return .efault }
        return .value(Int64(size))
    }

    /// sysinfo: the guest's own view: its memory limit as RAM, one process, no swap.
    private func sysinfo(_ address: UInt64) -> SyscallResult {
        var ts = timespec()
        clock_gettime(CLOCK_BOOTTIME, &ts)
        // struct sysinfo on a 64-bit ABI: 112 bytes.
        do {
            try memory.write([UInt8](repeating: 0, count: 112), at: address)
            try memory.store(Int64(ts.tv_sec), at: address)
            try memory.store(memory.limit, at: address &+ 32)  // totalram
            try memory.store(memory.limit - min(memory.limit, memory.mappedBytes), at: address &+ 40)  // freeram
            try memory.store(UInt16(1), at: address &+ 80)  // procs
            try memory.store(UInt32(1), at: address &+ 104)  // mem_unit
        } catch { return .efault }
        return .value(0)
    }

    private func prctl(_ args: SyscallArguments) -> SyscallResult {
        switch args[0] {
        case 15:  // PR_SET_NAME: at most 15 bytes are kept, as in the kernel's comm.
            do { current.name = Array(try memory.readCString(at: args[1], maxLength: 16).prefix(15)) } catch {
                return .efault
            }
            return .value(0)
        case 16:  // PR_GET_NAME
            var bytes = current.name
            bytes += [UInt8](repeating: 0, count: 16 - bytes.count)
            do { try memory.write(bytes, at: args[1]) } catch { return .efault }
            return .value(0)
        case 38: return .value(0)  // PR_SET_NO_NEW_PRIVS
        case 39: return .value(0)  // PR_GET_NO_NEW_PRIVS
        default:
            warnOnce("prctl \(args[0])", "unsupported prctl option \(args[0]); returning -EINVAL")
            return .einval
        }
    }

    private func getrusage(_ args: SyscallArguments) -> SyscallResult {
        var usage = rusage()
        Glibc.getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        // struct rusage: 144 bytes, identical on both 64-bit ABIs.
        var out = [UInt8](repeating: 0, count: 144)
        withUnsafeBytes(of: &usage) { raw in
            for k in 0..<min(raw.count, out.count) { out[k] = raw[k] }
        }
        do { try memory.write(out, at: args[1]) } catch { return .efault }
        return .value(0)
    }

    /// RISCV_HWPROBE_KEY_IMA_EXT_0 for the hart we emulate, with the bits of Linux's
    /// arch/riscv/include/uapi/asm/hwprobe.h: IMA_FD 0, IMA_C 1, ZBA 3, ZBB 4, ZBS 5, ZICBOZ 6,
    /// ZFA 32, ZICOND 35, ZIHINTPAUSE 36, ZICBOM 55.
    static let hwprobeExtensions: UInt64 =
        1 << 0 | 1 << 1 | 1 << 3 | 1 << 4 | 1 << 5 | 1 << 6 | 1 << 32 | 1 << 35 | 1 << 36 | 1 << 55

    /// riscv_hwprobe(pairs, count, cpusetsize, cpus, flags): answers for the hart we emulate.
    private func hwprobe(_ args: SyscallArguments) -> SyscallResult {
        guard args[4] == 0 else { return .einval }
        let count = min(args[1], 64)
        for k in 0..<count {
            let address = args[0] &+ 16 &* k
            do {
                let key = try memory.load(Int64.self, at: address)
                let value: UInt64?
                switch key {
                case 0, 1, 2: value = 0  // mvendorid, marchid, mimpid
                case 3: value = 1  // BASE_BEHAVIOR: IMA
                case 4: value = Self.hwprobeExtensions  // IMA_EXT_0
                case 5: value = 0  // CPUPERF_0: misaligned access speed unknown
                case 6, 12: value = cacheBlockSize  // ZICBOZ_BLOCK_SIZE, ZICBOM_BLOCK_SIZE
                default: value = nil
                }
                if let value {
                    try memory.store(value, at: address &+ 8)
                } else {
                    try memory.store(Int64(-1), at: address)
                    try memory.store(UInt64(0), at: address &+ 8)
                }
            } catch { return .efault }
        }
        return .value(0)
    }
}
