/// Generates `SyscallProgram`s: syscall numbers from the riscv64 table (known ones most of the
/// time, any number in 0...450 often, a few invalid ones), with arguments biased towards values
/// that matter: 0, -1, small integers, pointers into the program's own memory (and just before
/// its end), huge values and values near page boundaries.
///
/// Some calls are steered away from what would stop the fuzzer or make runs differ:
/// exit and exit_group only end the program; sleeps take only short timespecs on real-time
/// clocks; pipes, FIFOs and `F_SETFL` keep `O_NONBLOCK` and `flock`/`F_*LKW` never wait, so no
/// call can block for ever (futex waits become wakes; clone, sigsuspend and sigtimedwait are
/// never drawn); nothing closes or replaces the results descriptor; `fallocate`,
/// `sendfile` and `copy_file_range` move at most a MiB; calls that write times or inode numbers
/// write them only to the sink.
package struct SyscallProgramGenerator {
    /// The source of every choice.
    package var random: SeededRandom
    private var poolLayout = PoolLayout()
    /// Whether an earlier call may have made a FIFO (then every open is non-blocking).
    private var madeFIFO = false

    /// A generator whose choices follow from `seed`.
    package init(seed: UInt64) {
        random = SeededRandom(seed: seed)
    }

    /// Where the pool's parts are (guest addresses).
    struct PoolLayout {
        /// The NUL-terminated paths, with their text.
        var paths: [(address: UInt64, text: String)] = []
        /// `struct iovec` arrays.
        var iovecs: [UInt64] = []
        /// `struct timespec`s of sleeps: short ones and invalid ones.
        var sleeps: [UInt64] = []
        /// `struct sigaction`s.
        var sigactions: [UInt64] = []
        /// `struct rlimit`s.
        var rlimits: [UInt64] = []
        /// Signal sets.
        var sigsets: [UInt64] = []
    }

    /// Paths the calls name: in the scratch directory (the guest's working directory and only
    /// grant), the emulated /proc and /dev files, attempts to leave the sandbox, odd lengths.
    static let pathStrings: [String] = [
        "f", "g", "d", "d/f", "d/e/", "lnk", "p/q/r", ".", "..", "/", "", "/scratch", "/scratch/f", "/scratch/d/../g",
        "/proc/self/maps", "/proc/self/exe", "/proc/self/fd", "/proc/self/fd/1", "/proc/self/fd/3", "/proc/self/cwd",
        "/proc/self/cmdline", "/proc/self/environ", "/proc", "/dev/null", "/dev/zero", "/dev/stdout", "/dev/tty",
        "/dev/fd/0", "../..", "../../etc/passwd", "/etc/passwd", "/tmp", "f/../../x", "//scratch//f/",
        String(repeating: "a", count: 255), String(repeating: "b", count: 256),
        String(repeating: "c/", count: 100), "memfd:x",
    ]

    // MARK: The program

    /// A program of `count` calls.
    package mutating func program(calls count: Int) -> SyscallProgram {
        let handler = SyscallProgram.handlerLocation(calls: count)
        let pool = makePool(handler: handler)
        var calls: [SyscallProgram.Call] = []
        madeFIFO = false
        for _ in 0..<count { calls.append(call()) }
        var program = SyscallProgram(
            calls: calls, pool: pool, paths: Dictionary(poolLayout.paths.map { ($0.address, $0.text) }) { a, _ in a })
        program.handlerAddress = handler
        return program
    }

    /// One call: a number, its arguments, then the guards.
    mutating func call() -> SyscallProgram.Call {
        let number = syscallNumber()
        let entry = SyscallSignatures.entry(for: number)
        let usesSignature = entry != nil && random.percent(85)
        var arguments: [UInt64] = []
        for n in 0..<6 {
            let kind = entry.flatMap { n < $0.arguments.count ? $0.arguments[n] : nil } ?? .any
            let forced = kind == .sink || kind == .sleep
            arguments.append(value(forced || (usesSignature && !random.percent(10)) ? kind : .any))
        }
        steer(number, &arguments)
        return SyscallProgram.Call(number: number, arguments: arguments, recordsResult: !(entry?.resultVaries ?? false))
    }

    /// A known syscall most of the time, any number of the table often, an invalid one
    /// sometimes; never exit or exit_group.
    mutating func syscallNumber() -> UInt64 {
        while true {
            let number: UInt64
            switch random.below(100) {
            case 0..<65: number = random.pick(SyscallSignatures.entries).number
            case 65..<92: number = UInt64(random.below(451))
            default:
                number = random.pick([
                    451, 453, 460, 500, 1000, 4096, 0xffff, .max, 1 << 32 | 64, 1 << 32 | 172, 1 << 63, 0x8000_0000,
                ])
            }
            if !SyscallSignatures.excluded.contains(number & 0xffff_ffff) { return number }
        }
    }

    /// Rewrites the arguments of calls that could block for ever, stop the fuzzer, lose the
    /// results or fill the disk.
    mutating func steer(_ number: UInt64, _ a: inout [UInt64]) {
        func int(_ n: Int) -> Int32 { Int32(truncatingIfNeeded: a[n]) }
        let results = Int32(SyscallProgram.Layout.resultDescriptor)
        let nonBlocking: UInt64 = 0x800
        let mebibyte: UInt64 = 1 << 20
        switch number {
        case 24:  // dup3: not onto the results descriptor
            if int(1) == results { a[1] = 3 }
        case 25:  // fcntl
            switch int(1) {
            case 4: a[2] |= nonBlocking  // F_SETFL keeps O_NONBLOCK
            case 7: a[1] = 6  // F_SETLKW -> F_SETLK
            case 38: a[1] = 37  // F_OFD_SETLKW -> F_OFD_SETLK
            default: break
            }
        case 29:  // ioctl: FIONBIO could make a pipe blocking
            if int(1) == 0x5421 { a[1] = 0x541B }
        case 32:  // flock: LOCK_NB
            a[1] |= 4
        case 33:  // mknodat
            if UInt32(truncatingIfNeeded: a[2]) & 0o170000 == 0o010000 { madeFIFO = true }
        case 56:  // openat
            if madeFIFO { a[2] |= nonBlocking }
        case 57:  // close
            if int(0) == results { a[0] = 3 }
        case 98:  // futex: the waits (and PI locks) could wait for ever; wake instead
            if [0, 6, 9, 11, 13].contains(UInt32(truncatingIfNeeded: a[1]) & 0x7f) { a[1] = (a[1] & ~0x7f) | 1 }
        case 59:  // pipe2
            a[1] |= nonBlocking
        case 19, 198, 199:  // eventfd2, socket, socketpair: non-blocking descriptors
            a[1] |= nonBlocking
        case 73:  // ppoll: a short timeout, never none (no descriptor may be ready)
            if a[2] == 0 || !poolLayout.sleeps.contains(a[2]) { a[2] = random.pick(poolLayout.sleeps) }
        case 47:  // fallocate
            if a[3] > mebibyte { a[3] &= mebibyte - 1 }
        case 71:  // sendfile
            if a[3] > mebibyte { a[3] &= mebibyte - 1 }
        case 285:  // copy_file_range
            if a[4] > mebibyte { a[4] &= mebibyte - 1 }
        case 115:  // clock_nanosleep: only clocks that run while the process sleeps
            a[0] = random.pick([0, 1, 7, 12, 1000, .max])
        case 134, 135:  // rt_sigaction, rt_sigprocmask: the right set size, mostly
            if random.percent(80) { a[3] = 8 }
        case 436:  // close_range: never the results descriptor
            let low = UInt32(truncatingIfNeeded: a[0])
            let high = UInt32(truncatingIfNeeded: a[1])
            if low <= UInt32(results) && high >= UInt32(results) {
                if low < UInt32(results) { a[1] = UInt64(results - 1) } else { a[0] = UInt64(results + 1) }
            }
        default:
            break
        }
    }

    // MARK: Values

    /// A value for an argument of `kind`.
    mutating func value(_ kind: SyscallArgument) -> UInt64 {
        let pool = SyscallProgram.Layout.pool
        let poolEnd = pool + UInt64(SyscallProgram.Layout.poolSize)
        switch kind {
        case .fd:
            switch random.below(20) {
            case 0..<10: return UInt64(random.below(5))
            case 10..<16: return UInt64(random.inRange(3...8))
            case 16: return .max
            case 17: return signed(-100)
            case 18: return 1 << 32 | 1
            default: return random.pick([100, 1023, 1024, 65536, 0x7fff_ffff])
            }
        case .directory:
            switch random.below(10) {
            case 0..<6: return signed(-100)  // AT_FDCWD
            case 6..<9: return UInt64(random.inRange(3...8))
            default: return value(.any)
            }
        case .path:
            switch random.below(20) {
            case 0..<17: return random.pick(poolLayout.paths).address
            case 17: return pool + 0x1000 + UInt64(random.below(0x3000))
            case 18: return 0
            default: return poolEnd - UInt64(random.inRange(1...3))
            }
        case .buffer:
            return pointer()
        case .sink:
            switch random.below(10) {
            case 0..<8:
                let slots = (SyscallProgram.Layout.sinkSize - 4096) / 8
                return SyscallProgram.Layout.sink + UInt64(8 * random.below(slots))
            case 8: return 0
            default: return random.pick([SyscallProgram.Layout.text, .max, 0x1000])
            }
        case .length:
            switch random.below(20) {
            case 0..<8: return UInt64(random.below(65))
            case 8..<12: return random.pick([4095, 4096, 4097, 8192, 65536, 16384])
            case 12..<15: return UInt64(random.below(4097))
            case 15, 16: return random.pick([1 << 31, 1 << 32, 0x7fff_ffff_ffff_ffff, .max, 0x7fff_f000])
            default: return random.pick([1, 8, 16, 128, 256, 512])
            }
        case .offset:
            switch random.below(20) {
            case 0..<8: return 0
            case 8..<12: return UInt64(random.below(4097))
            case 12..<15: return random.pick([4095, 4096, 4097, 65535, 65536])
            case 15, 16: return random.pick([1 << 40, 0x7fff_ffff_ffff_ffff, .max, 1 << 63, signed(-4096)])
            default: return UInt64(random.below(1 << 20))
            }
        case .openFlags:
            var flags = UInt64(random.below(4))
            if random.percent(50) { flags |= 0x40 }  // O_CREAT
            // O_EXCL, O_NOCTTY, O_TRUNC, O_APPEND, O_NONBLOCK, O_DSYNC, O_DIRECTORY, O_NOFOLLOW,
            // O_CLOEXEC, O_PATH, O_TMPFILE.
            let bits: [UInt64] = [0x80, 0x100, 0x200, 0x400, 0x800, 0x1000, 0x1_0000, 0x2_0000, 0x8_0000, 0x20_0000, 0x41_0000]
            for bit in bits where random.percent(12) { flags |= bit }
            return random.percent(5) ? random.next() : flags
        case .mode:
            return random.pick([0o644, 0o755, 0o600, 0, 0o777, 0o7777, 0o4755, 0o100644, 0o010644, 0o020644, 0o040755])
        case .address:
            switch random.below(20) {
            case 0..<8: return 0
            case 8..<12:
                return random.pick([
                    SyscallProgram.Layout.text, pool, pool + 0x1000, poolEnd, SyscallProgram.Layout.sink,
                    SyscallProgram.Layout.results, 0x40_0000, 0x1000_0000,
                ])
            case 12..<16: return UInt64(random.below(1 << 26)) << 12
            case 16: return pool + UInt64(random.inRange(1...4095))
            default: return random.pick([1 << 38, (1 << 38) - 4096, 1 << 47, .max & ~0xfff, 0x7fff_ffff_f000])
            }
        case .protection:
            return random.percent(90) ? UInt64(random.below(8)) : random.next()
        case .mapFlags:
            switch random.below(10) {
            case 0..<4: return 0x22  // MAP_PRIVATE | MAP_ANONYMOUS
            case 4..<8:
                return random.pick([0x21, 0x02, 0x01, 0x32, 0x10_0022, 0x03, 0x8022, 0x4022, 0x122, 0x00, 0x23])
            default: return random.next() & 0xff_ffff
            }
        case .signal:
            switch random.below(20) {
            case 0..<6: return 0
            case 6..<12: return random.pick([17, 23, 28, 18])  // ignored by default
            case 12..<17: return UInt64(random.inRange(1...64))
            default: return random.pick([65, .max, 1 << 32 | 10, 128])
            }
        case .pid:
            switch random.below(10) {
            case 0..<4: return 0
            case 4, 5: return .max
            case 6, 7: return UInt64(random.inRange(1...100_000))
            default: return random.pick([1 << 31, 0x7fff_ffff, 1 << 32])
            }
        case .small:
            switch random.below(10) {
            case 0..<5: return UInt64(random.below(5))
            case 5..<8: return UInt64(random.below(65))
            default: return value(.any)
            }
        case .iovec:
            return random.percent(85) ? random.pick(poolLayout.iovecs) : random.pick([0, SyscallProgram.Layout.text, .max])
        case .sleep:
            if random.percent(85) { return random.pick(poolLayout.sleeps) }
            return random.pick([0, SyscallProgram.Layout.text, 0x1000])
        case .sigaction:
            return random.percent(80) ? random.pick(poolLayout.sigactions) : random.pick([0, pointer()])
        case .rlimit:
            return random.percent(80) ? random.pick(poolLayout.rlimits) : random.pick([0, pointer()])
        case .sigset:
            return random.percent(80) ? random.pick(poolLayout.sigsets) : random.pick([0, pointer()])
        case .clock:
            return random.percent(80) ? UInt64(random.below(12)) : random.pick([signed(-2), signed(-6), 12, 1000, .max])
        case .any:
            switch random.below(20) {
            case 0..<4: return 0
            case 4, 5: return .max
            case 6..<9: return UInt64(random.below(17))
            case 9..<12: return pointer()
            case 12, 13: return random.pick([4095, 4096, 4097, 65535, 65536, 0xfff, 0x1000])
            case 14..<17:
                return random.pick([
                    0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 1 << 32, 1 << 38, 1 << 47, 1 << 63, 0x7fff_ffff_ffff_ffff,
                    0xffff_ffff_ffff_f000, signed(-2), signed(-100),
                ])
            default: return random.next()
            }
        }
    }

    /// A pointer into the pool's random bytes mostly; else near the pool's end, into the
    /// (read-only) code, null, unmapped or a kernel address.
    mutating func pointer() -> UInt64 {
        let pool = SyscallProgram.Layout.pool
        let poolEnd = pool + UInt64(SyscallProgram.Layout.poolSize)
        switch random.below(20) {
        case 0..<14:
            let offset = UInt64(0x1000 + random.below(0x2f00))
            return pool + (random.percent(80) ? offset & ~7 : offset)
        case 14, 15: return poolEnd - UInt64(random.inRange(1...64))
        case 16: return SyscallProgram.Layout.text + UInt64(8 * random.below(64))
        case 17: return 0
        case 18: return random.pick([0x1000, 0x50_0000, 0x7fff_ffff_f000])
        default: return 0xffff_ffff_8000_0000
        }
    }

    private func signed(_ value: Int64) -> UInt64 { UInt64(bitPattern: value) }

    // MARK: The pool

    /// Builds the pool: paths from offset 0, then `iovec`s, timespecs, `sigaction`s, limits and
    /// signal sets, then random bytes from 0x1000.
    mutating func makePool(handler: UInt64) -> [UInt8] {
        let base = SyscallProgram.Layout.pool
        var bytes = [UInt8](repeating: 0, count: SyscallProgram.Layout.poolSize)
        func put(_ value: UInt64, at offset: Int) {
            for k in 0..<8 { bytes[offset + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(k))) }
        }
        poolLayout = PoolLayout()
        var cursor = 0
        for path in Self.pathStrings {
            let utf8 = Array(path.utf8)
            guard cursor + utf8.count + 1 <= 0x800 else { break }
            poolLayout.paths.append((base + UInt64(cursor), path))
            for (k, byte) in utf8.enumerated() { bytes[cursor + k] = byte }
            cursor += utf8.count + 1
        }
        // Eight iovecs at 0x800 (mostly small pieces of the random area), eight odd ones at 0x880.
        for k in 0..<8 {
            put(base + 0x1000 + UInt64(random.below(0x2f00)), at: 0x800 + 16 * k)
            put(UInt64(random.below(65)), at: 0x808 + 16 * k)
        }
        let odd: [(UInt64, UInt64)] = [
            (0, 8), (base + 0x3ff8, 64), (SyscallProgram.Layout.text, 16), (base + 0x1100, 0x7fff_ffff_ffff_ffff),
            (base + 0x1200, 0), (.max, 1), (base + 0x1300, 4096), (base + 0x1400, 1 << 32),
        ]
        for (k, (address, length)) in odd.enumerated() {
            put(address, at: 0x880 + 16 * k)
            put(length, at: 0x888 + 16 * k)
        }
        poolLayout.iovecs = (0..<8).map { base + 0x800 + UInt64(16 * $0) } + [base + 0x880, base + 0x8c0, base + 0x8f0]
        // Timespecs for sleeps: at most 0.2 ms, or invalid.
        let sleeps: [(UInt64, UInt64)] = [
            (0, 0), (0, 1000), (0, 50_000), (0, 200_000), (.max, 0), (0, 1_000_000_000), (0, .max),
        ]
        for (k, (seconds, nanoseconds)) in sleeps.enumerated() {
            put(seconds, at: 0x900 + 16 * k)
            put(nanoseconds, at: 0x908 + 16 * k)
            poolLayout.sleeps.append(base + 0x900 + UInt64(16 * k))
        }
        // struct sigaction { handler, flags, mask }.
        let actions: [(UInt64, UInt64, UInt64)] = [
            (handler, 0x1000_0004, 0),  // SA_RESTART | SA_SIGINFO
            (1, 0, 0),  // SIG_IGN
            (0, 0, .max),  // SIG_DFL
            (handler, 0xc800_0000, random.next()),  // SA_ONSTACK | SA_NODEFER | SA_RESETHAND
            (pointer(), 0x0400_0000, 0),  // SA_RESTORER with a random handler
        ]
        for (k, (address, flags, mask)) in actions.enumerated() {
            put(address, at: 0x980 + 24 * k)
            put(flags, at: 0x988 + 24 * k)
            put(mask, at: 0x990 + 24 * k)
            poolLayout.sigactions.append(base + 0x980 + UInt64(24 * k))
        }
        // struct rlimit { cur, max }.
        let limits: [(UInt64, UInt64)] = [(0, 0), (16, 16), (.max, .max), (1 << 20, 1 << 20), (64, 32)]
        for (k, (soft, hard)) in limits.enumerated() {
            put(soft, at: 0xa00 + 16 * k)
            put(hard, at: 0xa08 + 16 * k)
            poolLayout.rlimits.append(base + 0xa00 + UInt64(16 * k))
        }
        let sets: [UInt64] = [0, .max, 1 << 9, 1 << 13 | 1 << 16, random.next()]
        for (k, set) in sets.enumerated() {
            put(set, at: 0xa80 + 8 * k)
            poolLayout.sigsets.append(base + 0xa80 + UInt64(8 * k))
        }
        // Random bytes: words, small integers, text.
        var offset = 0x1000
        while offset < SyscallProgram.Layout.poolSize {
            switch random.below(4) {
            case 0: put(random.next(), at: offset)
            case 1: put(UInt64(random.below(256)), at: offset)
            case 2: for k in 0..<8 { bytes[offset + k] = UInt8(0x61 + random.below(26)) }
            default: put(0, at: offset)
            }
            offset += 8
        }
        return bytes
    }
}
