#if canImport(Glibc)
import Glibc
#endif
import CRivetHost
import RivetMachine
import Synchronization

/// One guest thread: what Linux keeps per task rather than per process. It runs on a host
/// thread of its own, with a hart of its own, in parallel with the others; it holds the
/// process's `HartLock` only for syscalls and signal delivery.
public final class GuestThread: @unchecked Sendable {
    /// The guest's thread id: the process id for the first thread, the host thread's id for
    /// the others (as with qemu-user, so that PI futexes the host kernel reads name the right
    /// owner).
    public internal(set) var tid: Int64
    /// The thread's hart: its registers, and the slots its run loop and JIT code use.
    public internal(set) var hart = HartState()
    /// Set while the thread's host thread runs guest code (not holding the process's lock):
    /// execve waits for the other threads to leave guest code before the image goes.
    public let runsGuestCode = Atomic<Bool>(false)
    /// The signal mask, the signals sent to this thread that wait for it, and the alternate
    /// signal stack: per thread in Linux.
    var mask: UInt64 = 0
    var pending: UInt64 = 0
    var alternateStack: (base: UInt64, size: UInt64, flags: UInt32) = (0, 0, 2)
    /// set_tid_address / CLONE_CHILD_CLEARTID: zeroed and woken when the thread exits.
    public var clearChildTID: UInt64 = 0
    /// set_robust_list: the head of the thread's list of robust futexes, and its size.
    var robustList: (head: UInt64, size: UInt64) = (0, 0)
    /// The host thread running it, to interrupt a blocking host call (SIGURG); set when it starts.
    public var host: pthread_t? = nil
    /// Set when another thread's execve ended this one: its host thread stops without ending
    /// the process.
    public internal(set) var isTerminated = false
    /// Set by the thread's host thread, holding the process's lock, when it has stopped acting
    /// on the process for good (its run loop ended): execve waits for this in the threads it
    /// ended before the old image goes.
    public let hasLeft = Atomic<Bool>(false)
    /// The thread's name (prctl PR_SET_NAME / PR_GET_NAME): at most 15 bytes.
    var name: [UInt8]

    init(tid: Int64, name: [UInt8]) {
        self.tid = tid
        self.name = name
    }

    /// Makes the thread look at its signals and state: its hart stops at its next check, and a
    /// blocking host call of its host thread ends with EINTR.
    public func interrupt() {
        rivet_set_attention(hart.slots, RIVET_ATTENTION_INTERRUPT)
        if let host, !pthread_equal(host, pthread_self()).isTrue { pthread_kill(host, SIGURG) }
    }
}

extension Int32 {
    fileprivate var isTrue: Bool { self != 0 }
}

/// The lock a guest thread holds to act on the process: one thread at a time runs the syscall
/// layer and delivers signals; guest code runs without it, in parallel, and blocking host calls
/// (a futex wait, a read of a pipe, a sleep) release it. Waiters are served in arrival order (a
/// ticket lock).
public final class HartLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    /// Conditions the waiters sleep on, by ticket modulo `turns`: a release wakes only the
    /// waiters of the next ticket's condition, not every waiter (with thousands of threads, a
    /// broadcast to all at every release made ending a process quadratic).
    private let turn: UnsafeMutablePointer<pthread_cond_t>
    private static let turns = 64
    private var nextTicket: UInt64 = 0
    private var serving: UInt64 = 0

    public init() {
        mutex = .allocate(capacity: 1)
        turn = .allocate(capacity: Self.turns)
        pthread_mutex_init(mutex, nil)
        for k in 0..<Self.turns { pthread_cond_init(turn + k, nil) }
    }

    deinit {
        for k in 0..<Self.turns { pthread_cond_destroy(turn + k) }
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        turn.deallocate()
    }

    /// Waits for this thread's turn.
    public func acquire() {
        pthread_mutex_lock(mutex)
        let ticket = nextTicket
        nextTicket += 1
        while serving != ticket { pthread_cond_wait(turn + Int(ticket % UInt64(Self.turns)), mutex) }
        pthread_mutex_unlock(mutex)
    }

    /// Passes the turn to the next waiter.
    public func release() {
        pthread_mutex_lock(mutex)
        serving += 1
        pthread_cond_broadcast(turn + Int(serving % UInt64(Self.turns)))
        pthread_mutex_unlock(mutex)
    }

    /// Before a fork (called by the holder): no other thread may be inside the lock's mutex
    /// when the host process is copied.
    public func prepareFork() { pthread_mutex_lock(mutex) }

    /// After a fork, in both processes. The child has only the holder: the tickets of the
    /// threads that waited are void, and the mutex and condition start afresh.
    public func afterFork(inChild: Bool) {
        guard inChild else {
            pthread_mutex_unlock(mutex)
            return
        }
        pthread_mutex_init(mutex, nil)
        for k in 0..<Self.turns { pthread_cond_init(turn + k, nil) }
        nextTicket = serving &+ 1
    }

    /// Whether another thread waits for its turn (read by the holder).
    public var isContended: Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return nextTicket &- serving > 1
    }
}
