#if canImport(Glibc)
import Glibc
#endif
import RivetMachine

/// The syscalls about the system rather than the process — scheduling, identity, capabilities,
/// personality — answered as Linux answers an unprivileged process on one CPU, and those a
/// sandboxed guest may not make at all, refused with the errno Linux gives an unprivileged
/// caller (EPERM) and one warning.
extension LinuxProcess {
    /// Syscalls that need privileges the guest never has, with what they would do.
    static let privileged: [Int: String] = [
        39: "umount2", 40: "mount", 41: "pivot_root", 58: "vhangup", 60: "quotactl", 89: "acct", 97: "unshare",
        104: "kexec_load", 105: "init_module", 106: "delete_module", 112: "clock_settime", 116: "syslog",
        117: "ptrace", 142: "reboot", 161: "sethostname", 162: "setdomainname", 170: "settimeofday",
        171: "adjtimex", 224: "swapon", 225: "swapoff", 241: "perf_event_open", 262: "fanotify_init",
        263: "fanotify_mark", 264: "name_to_handle_at", 265: "open_by_handle_at", 266: "clock_adjtime",
        268: "setns", 270: "process_vm_readv", 271: "process_vm_writev", 273: "finit_module", 280: "bpf",
        294: "kexec_file_load", 428: "open_tree", 429: "move_mount", 430: "fsopen", 431: "fsconfig",
        432: "fsmount", 433: "fspick", 442: "mount_setattr", 443: "quotactl_fd",
    ]

    func systemSyscall(_ number: Int, _ args: SyscallArguments, _ hart: HartState) -> SyscallResult? {
        if let name = Self.privileged[number] {
            warnOnce(
                "syscall \(number)",
                "\(name) (syscall \(number)) at pc 0x\(String(hart.pc, radix: 16)) is not for a sandboxed guest; returning -EPERM")
            return .value(-Errno.EPERM)
        }
        switch number {
        case 5...16:  // the xattr calls: no extended attributes in the guest's view
            warnOnce("xattr", "extended attributes (syscall \(number) \(SyscallNames.name(number))) are not supported; returning -EOPNOTSUPP")
            return .value(-Errno.EOPNOTSUPP)
        case 90: return capget(args)
        case 91: return .value(-Errno.EPERM)  // capset: it has no capability to give itself
        case 92:  // personality: PER_LINUX only
            let requested = UInt32(truncatingIfNeeded: args[0])
            guard requested == 0xffff_ffff || requested == 0 else { return .einval }
            return .value(0)
        case 118, 121:  // sched_setparam, sched_getparam: priority 0 under SCHED_OTHER
            guard Int64(args.int(0)) >= 0 else { return .einval }
            guard args[1] != 0 else { return .einval }
            if number == 118 {
                guard let priority = try? memory.load(Int32.self, at: args[1]) else { return .efault }
                return .value(priority == 0 ? 0 : -Errno.EINVAL)
            }
            do { try memory.store(Int32(0), at: args[1]) } catch { return .efault }
            return .value(0)
        case 119:  // sched_setscheduler: SCHED_OTHER, BATCH, IDLE yes; real-time needs privilege
            let policy = args.int(1) & ~0x4000_0000  // SCHED_RESET_ON_FORK
            switch policy {
            case 0, 3, 5: return .value(0)
            case 1, 2: return .value(-Errno.EPERM)
            default: return .einval
            }
        case 120: return .value(0)  // sched_getscheduler: SCHED_OTHER
        case 125, 126:  // sched_get_priority_max/min
            switch args.int(0) {
            case 1, 2: return .value(number == 125 ? 99 : 1)
            case 0, 3, 5: return .value(0)
            default: return .einval
            }
        case 127:  // sched_rr_get_interval: 100 ms, the kernel's default time slice
            do {
                try memory.store(Int64(0), at: args[1])
                try memory.store(Int64(100_000_000), at: args[1] &+ 8)
            } catch { return .efault }
            return .value(0)
        case 168:  // getcpu(cpu, node, cache): CPU 0, node 0
            do {
                if args[0] != 0 { try memory.store(UInt32(0), at: args[0]) }
                if args[1] != 0 { try memory.store(UInt32(0), at: args[1]) }
            } catch { return .efault }
            return .value(0)
        case 283: return membarrier(args)
        case 143, 144, 145, 146, 147, 149, 151, 152: return setIdentity(number, args)
        case 159:  // setgroups: needs CAP_SETGID
            return .value(-Errno.EPERM)
        default:
            return nil
        }
    }

    /// capget(header, data): no capabilities, in the header's version (v3 if it names another,
    /// with EINVAL, as Linux answers a version probe).
    private func capget(_ args: SyscallArguments) -> SyscallResult {
        guard let version = try? memory.load(UInt32.self, at: args[0]) else { return .efault }
        let known: [UInt32: Int] = [0x1998_0330: 1, 0x2007_1026: 2, 0x2008_0522: 2]
        guard let words = known[version] else {
            do { try memory.store(UInt32(0x2008_0522), at: args[0]) } catch { return .efault }
            return .einval
        }
        if args[1] != 0 {
            do { try memory.write([UInt8](repeating: 0, count: 12 * words), at: args[1]) } catch { return .efault }
        }
        return .value(0)
    }

    /// membarrier(cmd, flags, cpu): one guest thread runs at a time and the lock that passes
    /// between them is a full barrier, so every barrier already holds; QUERY tells which
    /// commands there are.
    private func membarrier(_ args: SyscallArguments) -> SyscallResult {
        let global: Int32 = 1, privateExpedited: Int32 = 8, registerPrivateExpedited: Int32 = 16
        let supported = global | privateExpedited | registerPrivateExpedited
        let command = args.int(0)
        if command == 0 { return .value(Int64(supported)) }  // MEMBARRIER_CMD_QUERY
        guard command & supported == command, command.nonzeroBitCount == 1 else { return .einval }
        return .value(0)
    }

    /// The set*id calls: an unprivileged process may set its ids only to values it already has
    /// (-1 keeps one); anything else is EPERM, and the identity never changes.
    private func setIdentity(_ number: Int, _ args: SyscallArguments) -> SyscallResult {
        let isUser = [145, 146, 147, 151].contains(number)
        let own: Set<UInt32> =
            isUser ? [UInt32(identity.uid), UInt32(identity.euid)] : [UInt32(identity.gid), UInt32(identity.egid)]
        let count = number == 147 || number == 149 ? 3 : number == 143 || number == 145 ? 2 : 1
        for k in 0..<count {
            let id = UInt32(truncatingIfNeeded: args[k])
            if id != UInt32.max, !own.contains(id) {
                // setfsuid/setfsgid return the old id whatever happens.
                return number == 151 || number == 152 ? .value(Int64(isUser ? identity.euid : identity.egid)) : .value(-Errno.EPERM)
            }
        }
        return number == 151 || number == 152 ? .value(Int64(isUser ? identity.euid : identity.egid)) : .value(0)
    }
}
