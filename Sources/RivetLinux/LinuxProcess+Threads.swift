import CRivetHost
#if canImport(Glibc)
import Glibc
#endif
import RivetMachine

/// CLONE_* flags.
enum CloneFlag {
    static let vm: UInt64 = 0x100
    static let fs: UInt64 = 0x200
    static let files: UInt64 = 0x400
    static let sighand: UInt64 = 0x800
    static let vfork: UInt64 = 0x4000
    static let thread: UInt64 = 0x10000
    static let setTLS: UInt64 = 0x80000
    static let parentSetTID: UInt64 = 0x100000
    static let childClearTID: UInt64 = 0x200000
    static let childSetTID: UInt64 = 0x1000000
}

extension LinuxProcess {
    // MARK: Taking turns

    /// Makes `thread` the one the syscall layer acts for: called with `lock` held, by `thread`'s
    /// host thread. Its signal state goes where the syscalls read it.
    public func switchTo(_ thread: GuestThread) {
        guard thread !== current else { return }
        let out = current
        out.mask = signals.mask
        out.pending = signals.pending
        out.alternateStack = signals.alternateStack
        signals.mask = thread.mask
        signals.pending = thread.pending
        signals.alternateStack = thread.alternateStack
        current = thread
    }

    /// Takes the lock for `thread` and makes it the running one.
    public func acquire(_ thread: GuestThread) {
        let hart = thread.hart
        let activity = hart.activity
        hart.activity = .lock
        lock.acquire()
        hart.activity = activity
        switchTo(thread)
    }

    /// Runs `body` — a host call that may block — without the lock, so that the other guest
    /// threads run meanwhile. `body` must touch neither the process nor the hart.
    ///
    /// The host calls `body` makes through `HostIO` (`rivet_syscall`), `rivet_futex` and
    /// `rivet_waitid` end with EINTR once the thread is interrupted, even if the interruption
    /// came before the call started (the caller looked at its signals, holding the lock, before
    /// this). `startsAnyway` is for a call that must not be skipped that way: a connect, which
    /// an interruption leaves in progress.
    func blocking<T>(startsAnyway: Bool = false, _ body: () -> T) -> T {
        let me = current
        let hart = me.hart
        let activity = hart.activity
        hart.activity = .blocked
        defer { hart.activity = activity }
        // Interruptions before now were looked at; those from now on end the call.
        rivet_clear_attention(hart.slots, RIVET_ATTENTION_INTERRUPT)
        if !startsAnyway { rivet_blocking_begin(hart.slots) }
        defer { rivet_blocking_end() }
        // A thread another's execve ended is no longer counted, and must not wait holding it.
        guard threads.count > 1 || me.isTerminated else { return body() }
        lock.release()
        let result = body()
        acquire(me)
        return result
    }

    /// sched_yield: lets the threads that wait for the lock, or for a host processor, run first.
    public func yield() {
        guard threads.count > 1 else { return }
        let me = current
        let activity = me.hart.activity
        me.hart.activity = .blocked
        defer { me.hart.activity = activity }
        lock.release()
        sched_yield()
        acquire(me)
    }

    /// Whether the process is ending: every thread must stop where it is.
    public var isEnding: Bool { hart.slots[HartState.Slot.attention] & RIVET_ATTENTION_ENDING != 0 }

    /// Ends the process: every thread stops at its next look at the hart's attention bits, and
    /// those blocked in a host call are interrupted.
    public func endAllThreads() {
        rivet_set_attention(hart.slots, RIVET_ATTENTION_ENDING | RIVET_ATTENTION_INTERRUPT)
        for thread in threads.values { rivet_set_attention(thread.hart.slots, RIVET_ATTENTION_ENDING) }
        interruptOtherThreads()
    }

    /// Interrupts every thread: its guest code stops at its next check, its blocking host call
    /// ends.
    public func interruptOtherThreads() {
        for thread in threads.values { thread.interrupt() }
    }

    /// execve's end of the other threads (Linux's de_thread): each is told to end, and the
    /// caller waits until every one has left — stopped running guest code, and finished the
    /// syscall it was in — before the old image goes. A thread in a blocking host call needs
    /// the lock to finish it, so the lock is lent while waiting; one that was about to block
    /// when first told (the interruption came before its host call started) is told again
    /// until it has left.
    func endOtherThreadsForExec() {
        let me = current
        let others = threads.values.filter { $0 !== me }
        for thread in others {
            thread.isTerminated = true
            // Its hart's ENDING: a wait it is in, or about to enter, gives up at once.
            rivet_set_attention(thread.hart.slots, RIVET_ATTENTION_ENDING)
        }
        while others.contains(where: { !$0.hasLeft.load(ordering: .acquiring) }) {
            for thread in others where !thread.hasLeft.load(ordering: .acquiring) { thread.interrupt() }
            lock.release()
            usleep(100)
            acquire(me)
        }
    }

    // MARK: clone

    /// clone and clone3 for a thread (CLONE_VM | CLONE_THREAD | CLONE_SIGHAND ...): a new
    /// guest thread on a host thread of its own, starting after the `ecall` with a0 = 0.
    func cloneThread(
        flags: UInt64, stack: UInt64, parentTID: UInt64, tls: UInt64, childTID: UInt64, _ hart: HartState
    ) -> SyscallResult {
        // Linux: CLONE_THREAD needs CLONE_SIGHAND, which needs CLONE_VM.
        guard flags & CloneFlag.sighand != 0, flags & CloneFlag.vm != 0 else { return .einval }
        let thread = GuestThread(tid: 0, name: current.name)
        // x0...x31, the x0 sink, f0...f31, pc, fcsr: the parent's, but for a0, sp and tp.
        let architectural = HartState.Slot.reservation
        thread.hart.slots.update(from: hart.slots, count: architectural)
        thread.hart[x: 10] = 0
        if stack != 0 { thread.hart[x: 2] = stack }
        if flags & CloneFlag.setTLS != 0 { thread.hart[x: 4] = tls }
        thread.hart.pc = hart.pc + 4
        thread.hart.instret = 0
        thread.mask = signals.mask
        if flags & CloneFlag.childClearTID != 0 { thread.clearChildTID = childTID }
        // The child's tid must be in place before it runs: it takes the lock, held here, first.
        guard let tid = startThread(thread) else { return .value(-Errno.EAGAIN) }
        thread.tid = tid
        threads[tid] = thread
        if flags & CloneFlag.childSetTID != 0 { try? memory.store(UInt32(truncatingIfNeeded: tid), at: childTID) }
        if flags & CloneFlag.parentSetTID != 0 { try? memory.store(UInt32(truncatingIfNeeded: tid), at: parentTID) }
        return .value(tid)
    }

    /// clone3(args, size): `struct clone_args` (flags, pidfd, child_tid, parent_tid,
    /// exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup).
    func clone3(_ args: SyscallArguments, _ hart: HartState) -> SyscallResult {
        let size = args[1]
        guard size >= 64, size <= 4096 else { return .einval }
        var fields = [UInt64](repeating: 0, count: 11)
        do {
            for k in 0..<Int(min(size / 8, 11)) { fields[k] = try memory.load(UInt64.self, at: args[0] &+ UInt64(8 * k)) }
        } catch { return .efault }
        let flags = fields[0]
        let (stack, stackSize) = (fields[5], fields[6])
        guard fields[8] == 0, fields[9] == 0 else { return .value(-Errno.EPERM) }  // set_tid: CAP_SYS_ADMIN
        guard (stack == 0) == (stackSize == 0) else { return .einval }
        if flags & CloneFlag.thread == 0 {
            return cloneProcess(
                flags: flags | (fields[4] & 0xff), stack: stack == 0 ? 0 : stack &+ stackSize, parentTID: fields[3],
                tls: fields[7], childTID: fields[2], hart)
        }
        return cloneThread(
            flags: flags, stack: stack == 0 ? 0 : stack &+ stackSize, parentTID: fields[3], tls: fields[7],
            childTID: fields[2], hart)
    }

    /// clone(flags, stack, parent_tid, tls, child_tid): riscv64 passes tls before child_tid
    /// (CONFIG_CLONE_BACKWARDS).
    func clone(_ args: SyscallArguments, _ hart: HartState) -> SyscallResult {
        let flags = args[0]
        if flags & CloneFlag.thread != 0 {
            return cloneThread(flags: flags, stack: args[1], parentTID: args[2], tls: args[3], childTID: args[4], hart)
        }
        return cloneProcess(flags: flags, stack: args[1], parentTID: args[2], tls: args[3], childTID: args[4], hart)
    }

    // MARK: Exit

    /// exit: ends the calling thread; the process with it if it is the last one.
    func exitThread(status: Int32) -> SyscallOutcome {
        guard threads.count > 1 else {
            finishThread(current)
            return .exit(status)
        }
        finishThread(current)
        threads[current.tid] = nil
        return .threadExit
    }

    /// What Linux does for an exiting thread: marks the robust futexes it holds as their owner
    /// died (and wakes a waiter of each), then zeroes its clear_child_tid word and wakes one
    /// waiter there (pthread_join).
    func finishThread(_ thread: GuestThread) {
        releaseRobustFutexes(thread)
        let address = thread.clearChildTID
        if address != 0, (try? memory.store(UInt32(0), at: address)) != nil, address & 3 == 0 {
            _ = rivet_futex(futexWord(address), FutexOp.wake, 1, 0, nil, 0)
        }
    }

    /// The robust-futex list (`struct robust_list_head { next; futex_offset; list_op_pending }`,
    /// entries linked through `next`): each futex word whose owner is `thread` gets
    /// FUTEX_OWNER_DIED, and one waiter is woken. At most 2048 entries, as Linux's bound.
    private func releaseRobustFutexes(_ thread: GuestThread) {
        let head = thread.robustList.head
        guard head != 0, thread.robustList.size == 24 else { return }
        guard let first = try? memory.load(UInt64.self, at: head),
            let offset = try? memory.load(Int64.self, at: head &+ 8),
            let pending = try? memory.load(UInt64.self, at: head &+ 16)
        else { return }
        var entries: [UInt64] = []
        var entry = first
        while entry != head, entry != 0, entries.count < 2048 {
            entries.append(entry)
            guard let next = try? memory.load(UInt64.self, at: entry) else { break }
            entry = next
        }
        if pending != 0 { entries.append(pending) }
        for entry in entries {
            // Bit 0 of an entry's address marks a PI futex; the word is at entry + offset.
            let word = (entry & ~1) &+ UInt64(bitPattern: offset)
            guard word & 3 == 0, let value = try? memory.load(UInt32.self, at: word),
                Int64(value & 0x3fff_ffff) == thread.tid
            else { continue }
            let died = (value & 0x8000_0000) | 0x4000_0000  // keep FUTEX_WAITERS, set FUTEX_OWNER_DIED
            guard (try? memory.store(died, at: word)) != nil else { continue }
            if value & 0x8000_0000 != 0 { _ = rivet_futex(futexWord(word), FutexOp.wake, 1, 0, nil, 0) }
        }
    }

    // MARK: Signals between threads

    /// tgkill and tkill: a signal for one thread.
    func signalThread(_ tid: Int64, _ signal: Int32, hart: HartState) -> SyscallResult {
        guard signal >= 0, signal <= 64 else { return .einval }
        guard let target = threads[tid] else { return .value(-Errno.ESRCH) }
        if target === current { return raise(signal, code: -6, hart: hart) }
        if signal == 0 { return .value(0) }
        if signal == Signal.SIGKILL || signal == Signal.SIGSTOP { return .outcome(.killed(signal)) }
        if !ignores(signal) {
            target.pending |= 1 << UInt64(signal - 1)
            target.interrupt()
        }
        return .value(0)
    }

    /// A signal for the whole process (kill): to the calling thread if it does not block it,
    /// else to a thread that does not (woken from a blocking call), else left pending on the
    /// calling thread.
    func signalProcess(_ signal: Int32, code: Int32, hart: HartState) -> SyscallResult {
        guard signal > 0, signal <= 64, signal != Signal.SIGKILL, signal != Signal.SIGSTOP else {
            return raise(signal, code: code, hart: hart)
        }
        let bit: UInt64 = 1 << UInt64(signal - 1)
        if threads.count > 1, signals.mask & bit != 0, !ignores(signal) {
            if let other = threads.values.first(where: { $0 !== current && $0.mask & bit == 0 }) {
                other.pending |= bit
                other.interrupt()
            } else {
                // Every thread blocks it: pending for the process, for the first thread that
                // unblocks it or waits for it (sigwaitinfo).
                processPending |= bit
            }
            return .value(0)
        }
        return raise(signal, code: code, hart: hart)
    }

    // MARK: futex

    /// The host address of a guest futex word (checked by the caller to be in the guest space).
    func futexWord(_ address: UInt64) -> UnsafeMutablePointer<UInt32> {
        memory.host(address).assumingMemoryBound(to: UInt32.self)
    }

    /// futex(uaddr, op, val, timeout or val2, uaddr2, val3): the host's own futex on the guest
    /// words (guest memory is host memory), as qemu-user does, so that waiters in other threads
    /// — and in other processes, for shared mappings — meet the host kernel's semantics
    /// exactly. The calls that wait do so without the lock.
    func futex(_ args: SyscallArguments) -> SyscallResult {
        let op = Int32(truncatingIfNeeded: args[1])
        let command = op & 0x7f
        guard FutexOp.supported(command) else {
            warnOnce("futex \(command)", "unsupported futex operation \(command); returning -ENOSYS")
            return .value(-Errno.ENOSYS)
        }
        guard args[0] & 3 == 0, GuestMemory.contains(args[0], size: 4) else {
            return args[0] & 3 == 0 ? .efault : .einval
        }
        let word = futexWord(args[0])
        var second: UnsafeMutablePointer<UInt32>? = nil
        if FutexOp.usesSecondWord(command) {
            guard args[4] & 3 == 0, GuestMemory.contains(args[4], size: 4) else {
                return args[4] & 3 == 0 ? .efault : .einval
            }
            second = futexWord(args[4])
        }
        let value = UInt32(truncatingIfNeeded: args[2])
        let third = UInt32(truncatingIfNeeded: args[5])
        guard FutexOp.hasTimeout(command), args[3] != 0 else {
            // No timeout: the fourth argument is val2 (requeue counts) or unused.
            let timeout = FutexOp.hasTimeout(command) ? 0 : UInt(truncatingIfNeeded: args[3])
            let result =
                FutexOp.waits(command)
                ? blocking { rivet_futex(word, op, value, timeout, second, third) }
                : rivet_futex(word, op, value, timeout, second, third)
            return .value(Int64(result))
        }
        var time = timespec()
        do {
            time.tv_sec = Int(try memory.load(Int64.self, at: args[3]))
            time.tv_nsec = Int(try memory.load(Int64.self, at: args[3] &+ 8))
        } catch { return .efault }
        let result = blocking {
            withUnsafePointer(to: &time) { rivet_futex(word, op, value, UInt(bitPattern: $0), second, third) }
        }
        return .value(Int64(result))
    }
}

/// futex(2) operations.
enum FutexOp {
    static let wait: Int32 = 0
    static let wake: Int32 = 1
    static let requeue: Int32 = 3
    static let compareRequeue: Int32 = 4
    static let wakeOp: Int32 = 5
    static let lockPI: Int32 = 6
    static let unlockPI: Int32 = 7
    static let trylockPI: Int32 = 8
    static let waitBitset: Int32 = 9
    static let wakeBitset: Int32 = 10
    static let waitRequeuePI: Int32 = 11
    static let compareRequeuePI: Int32 = 12
    static let lockPI2: Int32 = 13

    static func supported(_ command: Int32) -> Bool { (0...13).contains(command) && command != 2 }  // 2: FUTEX_FD, gone
    static func waits(_ command: Int32) -> Bool {
        [wait, lockPI, waitBitset, waitRequeuePI, lockPI2].contains(command)
    }
    /// Whether the fourth argument is a timeout (else it is val2 or unused).
    static func hasTimeout(_ command: Int32) -> Bool { waits(command) }
    static func usesSecondWord(_ command: Int32) -> Bool {
        [requeue, compareRequeue, wakeOp, waitRequeuePI, compareRequeuePI].contains(command)
    }
}
