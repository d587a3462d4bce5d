/// What a syscall argument is, so that the syscall fuzzer can choose values that get past the
/// first checks (a real descriptor, a path that exists, a buffer that is mapped) as well as
/// values that should not.
package enum SyscallArgument: Sendable {
    /// A file descriptor: 0...8 mostly.
    case fd
    /// A directory descriptor: AT_FDCWD mostly.
    case directory
    /// A pointer to a NUL-terminated path in the argument pool.
    case path
    /// A pointer to bytes the call reads or writes deterministically.
    case buffer
    /// A pointer to where the call writes something that differs from run to run (times,
    /// inode numbers): the sink, which nothing ever reads back.
    case sink
    /// A byte count.
    case length
    /// A file offset.
    case offset
    /// `O_*` flags.
    case openFlags
    /// A file mode.
    case mode
    /// A guest address for the memory calls.
    case address
    /// `PROT_*` bits.
    case protection
    /// `MAP_*` flags.
    case mapFlags
    /// A signal number.
    case signal
    /// A process or thread id: the guest's own (0, -1) or another.
    case pid
    /// A small integer (a command, a `how`, a resource number).
    case small
    /// A pointer to an array of `struct iovec` in the pool.
    case iovec
    /// A pointer to a short `struct timespec` (sleeps end in well under a millisecond).
    case sleep
    /// A pointer to a `struct sigaction` in the pool.
    case sigaction
    /// A pointer to a `struct rlimit` in the pool.
    case rlimit
    /// A pointer to a signal set in the pool.
    case sigset
    /// A clock id.
    case clock
    /// Anything at all.
    case any
}

/// The syscalls the fuzzer knows the arguments of (riscv64 numbers), and which of them write
/// run-dependent data (so their output pointers go to the sink, and their results are not
/// recorded when the result itself is run-dependent).
package enum SyscallSignatures {
    /// One known syscall.
    package struct Entry: Sendable {
        /// Its riscv64 number.
        package var number: UInt64
        /// Its name, for listings.
        package var name: String
        /// Its arguments, in order (the rest are `.any`).
        package var arguments: [SyscallArgument]
        /// Whether its return value differs from run to run (times(2)).
        package var resultVaries = false
    }

    private static func entry(
        _ number: UInt64, _ name: String, _ arguments: [SyscallArgument], resultVaries: Bool = false
    ) -> Entry {
        Entry(number: number, name: name, arguments: arguments, resultVaries: resultVaries)
    }

    /// The table, by number.
    package static let entries: [Entry] = [
        entry(17, "getcwd", [.buffer, .length]),
        entry(19, "eventfd2", [.small, .openFlags]),
        entry(20, "epoll_create1", [.openFlags]),
        entry(21, "epoll_ctl", [.fd, .small, .fd, .buffer]),
        entry(23, "dup", [.fd]),
        entry(24, "dup3", [.fd, .fd, .openFlags]),
        entry(25, "fcntl", [.fd, .small, .any]),
        entry(29, "ioctl", [.fd, .any, .buffer]),
        entry(32, "flock", [.fd, .small]),
        entry(33, "mknodat", [.directory, .path, .mode, .small]),
        entry(34, "mkdirat", [.directory, .path, .mode]),
        entry(35, "unlinkat", [.directory, .path, .small]),
        entry(36, "symlinkat", [.path, .directory, .path]),
        entry(37, "linkat", [.directory, .path, .directory, .path, .small]),
        entry(43, "statfs", [.path, .sink]),
        entry(44, "fstatfs", [.fd, .sink]),
        entry(45, "truncate", [.path, .offset]),
        entry(46, "ftruncate", [.fd, .offset]),
        entry(47, "fallocate", [.fd, .small, .offset, .length]),
        entry(48, "faccessat", [.directory, .path, .small]),
        entry(49, "chdir", [.path]),
        entry(50, "fchdir", [.fd]),
        entry(51, "chroot", [.path]),
        entry(52, "fchmod", [.fd, .mode]),
        entry(53, "fchmodat", [.directory, .path, .mode]),
        entry(54, "fchownat", [.directory, .path, .small, .small, .small]),
        entry(55, "fchown", [.fd, .small, .small]),
        entry(56, "openat", [.directory, .path, .openFlags, .mode]),
        entry(57, "close", [.fd]),
        entry(59, "pipe2", [.buffer, .openFlags]),
        entry(61, "getdents64", [.fd, .sink, .length]),
        entry(62, "lseek", [.fd, .offset, .small]),
        entry(63, "read", [.fd, .buffer, .length]),
        entry(64, "write", [.fd, .buffer, .length]),
        entry(65, "readv", [.fd, .iovec, .small]),
        entry(66, "writev", [.fd, .iovec, .small]),
        entry(67, "pread64", [.fd, .buffer, .length, .offset]),
        entry(68, "pwrite64", [.fd, .buffer, .length, .offset]),
        entry(69, "preadv", [.fd, .iovec, .small, .offset]),
        entry(70, "pwritev", [.fd, .iovec, .small, .offset]),
        entry(71, "sendfile", [.fd, .fd, .buffer, .length]),
        entry(73, "ppoll", [.buffer, .small, .sleep, .sigset, .length]),
        entry(78, "readlinkat", [.directory, .path, .buffer, .length]),
        entry(79, "newfstatat", [.directory, .path, .sink, .small]),
        entry(80, "fstat", [.fd, .sink]),
        entry(81, "sync", []),
        entry(82, "fsync", [.fd]),
        entry(83, "fdatasync", [.fd]),
        entry(88, "utimensat", [.directory, .path, .buffer, .small]),
        entry(96, "set_tid_address", [.buffer]),
        entry(99, "set_robust_list", [.buffer, .length]),
        entry(101, "nanosleep", [.sleep, .buffer]),
        entry(113, "clock_gettime", [.clock, .sink]),
        entry(114, "clock_getres", [.clock, .buffer]),
        entry(115, "clock_nanosleep", [.clock, .small, .sleep, .buffer]),
        entry(122, "sched_setaffinity", [.pid, .length, .buffer]),
        entry(123, "sched_getaffinity", [.pid, .length, .buffer]),
        entry(124, "sched_yield", []),
        entry(129, "kill", [.pid, .signal]),
        entry(130, "tkill", [.pid, .signal]),
        entry(131, "tgkill", [.pid, .pid, .signal]),
        entry(132, "sigaltstack", [.buffer, .buffer]),
        entry(134, "rt_sigaction", [.signal, .sigaction, .buffer, .small]),
        entry(135, "rt_sigprocmask", [.small, .sigset, .buffer, .small]),
        entry(136, "rt_sigpending", [.buffer, .small]),
        entry(139, "rt_sigreturn", []),
        entry(140, "setpriority", [.small, .pid, .any]),
        entry(141, "getpriority", [.small, .pid]),
        entry(148, "getresuid", [.buffer, .buffer, .buffer]),
        entry(150, "getresgid", [.buffer, .buffer, .buffer]),
        entry(153, "times", [.sink], resultVaries: true),
        entry(154, "setpgid", [.pid, .pid]),
        entry(155, "getpgid", [.pid]),
        entry(157, "setsid", []),
        entry(158, "getgroups", [.small, .buffer]),
        entry(160, "uname", [.buffer]),
        entry(163, "getrlimit", [.small, .buffer]),
        entry(164, "setrlimit", [.small, .rlimit]),
        entry(165, "getrusage", [.small, .sink]),
        entry(166, "umask", [.mode]),
        entry(167, "prctl", [.small, .buffer, .any, .any, .any]),
        entry(169, "gettimeofday", [.sink, .sink]),
        entry(172, "getpid", []),
        entry(173, "getppid", []),
        entry(174, "getuid", []),
        entry(178, "gettid", []),
        entry(179, "sysinfo", [.sink]),
        entry(198, "socket", [.small, .small, .small]),
        entry(199, "socketpair", [.small, .small, .small, .buffer]),
        entry(213, "readahead", [.fd, .offset, .length]),
        entry(214, "brk", [.address]),
        entry(215, "munmap", [.address, .length]),
        entry(216, "mremap", [.address, .length, .length, .small, .address]),
        entry(222, "mmap", [.address, .length, .protection, .mapFlags, .fd, .offset]),
        entry(223, "fadvise64", [.fd, .offset, .length, .small]),
        entry(226, "mprotect", [.address, .length, .protection]),
        entry(227, "msync", [.address, .length, .small]),
        entry(228, "mlock", [.address, .length]),
        entry(233, "madvise", [.address, .length, .small]),
        entry(258, "riscv_hwprobe", [.buffer, .small, .small, .buffer, .small]),
        entry(259, "riscv_flush_icache", [.address, .address, .small]),
        entry(261, "prlimit64", [.pid, .small, .rlimit, .buffer]),
        entry(267, "syncfs", [.fd]),
        entry(276, "renameat2", [.directory, .path, .directory, .path, .small]),
        entry(278, "getrandom", [.buffer, .length, .small]),
        entry(279, "memfd_create", [.path, .small]),
        entry(285, "copy_file_range", [.fd, .buffer, .fd, .buffer, .length, .small]),
        entry(286, "preadv2", [.fd, .iovec, .small, .offset, .any, .small]),
        entry(287, "pwritev2", [.fd, .iovec, .small, .offset, .any, .small]),
        entry(291, "statx", [.directory, .path, .small, .small, .sink]),
        entry(293, "rseq", [.buffer, .length, .small, .small]),
        entry(436, "close_range", [.fd, .fd, .small]),
        entry(439, "faccessat2", [.directory, .path, .small, .small]),
        entry(452, "fchmodat2", [.directory, .path, .mode, .small]),
    ]

    /// The entry for `number`, if the table has one.
    package static func entry(for number: UInt64) -> Entry? { byNumber[number] }

    private static let byNumber: [UInt64: Entry] = Dictionary(uniqueKeysWithValues: entries.map { ($0.number, $0) })

    /// Syscalls that run-dependent data reaches through an output pointer the table does not
    /// describe, or that end the program: never drawn at random.
    package static let excluded: Set<UInt64> = [
        93, 94,  // exit, exit_group: only at the end
        220, 435,  // clone, clone3: a thread's id and its schedule differ from run to run
        133, 137,  // rt_sigsuspend, rt_sigtimedwait: wait for a signal nothing sends
        // Timers: a signal, an expiry count or a remaining time that depends on how fast the
        // tier runs (a setitimer of a few milliseconds sent SIGALRM before the program's end
        // only under `opt`, which compiles every block with tier 2).
        102, 103,  // getitimer, setitimer
        107, 108, 110,  // timer_create, timer_gettime, timer_settime
        86, 87,  // timerfd_settime, timerfd_gettime
    ]

    /// Syscalls whose output pointer must always be the sink: with a random buffer they would
    /// write times or inode numbers where later calls read.
    package static let writesVaryingData: Set<UInt64> = [43, 44, 61, 79, 80, 113, 153, 165, 169, 179, 291]
}
