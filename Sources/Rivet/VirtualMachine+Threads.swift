#if canImport(Glibc)
import Glibc
#endif
import CRivetHost
import RivetJIT
import RivetLinux
import RivetMachine

/// The host threads running guest threads after the first: how many still run, to be waited
/// for when the process ends, and their handles, to be joined.
final class HostThreadGroup: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let changed: UnsafeMutablePointer<pthread_cond_t>
    private var running = 0
    private var handles: [pthread_t] = []

    init() {
        mutex = .allocate(capacity: 1)
        changed = .allocate(capacity: 1)
        initializeLocks()
    }

    /// The mutex, and the condition on the monotonic clock (its timed waits).
    private func initializeLocks() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(changed, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        changed.deallocate()
    }

    func started(_ handle: pthread_t) {
        pthread_mutex_lock(mutex)
        running += 1
        handles.append(handle)
        pthread_mutex_unlock(mutex)
    }

    func finished() {
        pthread_mutex_lock(mutex)
        running -= 1
        pthread_cond_broadcast(changed)
        pthread_mutex_unlock(mutex)
    }

    /// Waits until none runs or `nanoseconds` passed; returns how many still run.
    func wait(upTo nanoseconds: UInt64) -> Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if running > 0 {
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            let total = UInt64(now.tv_nsec) + nanoseconds
            var until = timespec(tv_sec: now.tv_sec + Int(total / 1_000_000_000), tv_nsec: Int(total % 1_000_000_000))
            pthread_cond_timedwait(changed, mutex, &until)
        }
        return running
    }

    /// Before a fork: the mutex must not be held by another thread when the process is copied.
    func prepareFork() { pthread_mutex_lock(mutex) }

    /// After a fork: in the child, none of these threads exists.
    func afterFork(inChild: Bool) {
        guard inChild else {
            pthread_mutex_unlock(mutex)
            return
        }
        initializeLocks()
        running = 0
        handles = []
    }

    /// Joins every thread that finished (all of them, once `wait` returned 0).
    func joinAll() {
        pthread_mutex_lock(mutex)
        let joined = handles
        handles = []
        pthread_mutex_unlock(mutex)
        for handle in joined { pthread_join(handle, nil) }
    }
}

/// What a new host thread needs to start its guest thread, and how it reports its id.
private final class ThreadStart {
    /// Not retained: a machine dropped while its threads are parked ends and joins them in
    /// its deinit.
    unowned(unsafe) let machine: VirtualMachine
    let thread: GuestThread
    let runner: HartRunner
    let ready = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
    var tid: Int32 = 0

    init(machine: VirtualMachine, thread: GuestThread, runner: HartRunner) {
        self.machine = machine
        self.thread = thread
        self.runner = runner
        sem_init(ready, 0, 0)
    }

    deinit {
        sem_destroy(ready)
        ready.deallocate()
    }
}

extension VirtualMachine {
    /// Instructions a guest thread runs, while others exist, before it looks at its signals
    /// again (and leaves JIT code, so that code other harts removed can be freed).
    static let timeSlice: UInt64 = 1_000_000

    /// Runs the guest — its first thread on the calling host thread, each thread it creates on
    /// a host thread of its own — until the process ends, and waits for every thread to stop;
    /// or until the run is suspended, every other thread parked.
    func runThreads(clock: ContinuousClock) -> ExitReason {
        let watched = watchdog != nil
        if let first = mainThread {
            first.host = pthread_self()
            process.acquire(first)
            resumeParkedThreads()
            rivet_clear_attention(first.hart.slots, RIVET_ATTENTION_PAUSE | RIVET_ATTENTION_DEADLINE)
            // A pause or cancellation asked while the guest was not running stops it before it
            // starts.
            let end: LoopEnd =
                if let request = takeControlRequest() { request }
                else { threadLoop(first, runner: engine.main, driving: true, clock: clock, watched: watched) }
            switch end {
            case .processEnds(let reason): self.end(reason)
            case .suspended(let reason):
                // This host thread leaves the guest thread (the next run may come from another).
                first.host = nil
                process.lock.release()
                return reason
            case .threadEnded, .returned: mainThread = nil
            }
            first.hart.activity = .blocked  // for the others
            process.lock.release()
        } else {
            process.lock.acquire()
            resumeParkedThreads()
            process.lock.release()
        }
        // The first thread exited alone: the others run on, and the embedder's requests and
        // the deadline still stop them.
        while !process.isEnding, hostThreads.wait(upTo: 10_000_000) > 0 {
            process.lock.acquire()
            if case .processEnds(let reason)? = takeControlRequest() {
                end(reason)
            } else if suspension == nil,
                process.hart.slots[HartState.Slot.attention] & RIVET_ATTENTION_DEADLINE != 0
                    || deadline.map({ clock.now >= $0 }) == true
            {
                suspend(.timeLimitReached)
            }
            if let suspension, !process.isEnding {
                process.lock.release()
                return suspension
            }
            process.lock.release()
        }
        joinEndingThreads()
        process.hart.activity = .runLoop
        return ending ?? .exited(0)
    }

    /// Once the process ends (or every thread did): tells the other threads again and again
    /// until their host threads stopped — one may have been about to block when first told, or
    /// parked — and joins them.
    func joinEndingThreads() {
        while hostThreads.wait(upTo: 10_000_000) > 0 {
            process.lock.acquire()
            process.interruptOtherThreads()
            parking.advance()
            process.lock.release()
        }
        hostThreads.joinAll()
    }

    /// Ends a guest dropped while suspended: its parked threads end and are joined.
    func endAbandonedRun() {
        guard finished == nil, hostThreads.wait(upTo: 0) > 0 else { return }
        process.lock.acquire()
        end(.cancelled)
        process.lock.release()
        joinEndingThreads()
    }

    /// Ends the process (called holding the lock): the first reason given is the one reported.
    func end(_ reason: ExitReason) {
        if ending == nil { ending = reason }
        process.endAllThreads()
        // Parked threads wake to end.
        parking.advance()
    }

    /// Starts a host thread for `thread` and returns its id once it runs (it then waits for the
    /// lock, which the caller holds); nil if the host cannot start a thread.
    func startHostThread(_ thread: GuestThread) -> Int64? {
        let start = ThreadStart(machine: self, thread: thread, runner: engine.makeRunner(for: thread.hart))
        let context = Unmanaged.passRetained(start).toOpaque()
        var handle = pthread_t()
        let created = pthread_create(
            &handle, nil,
            { raw in
                let start = Unmanaged<ThreadStart>.fromOpaque(raw!).takeRetainedValue()
                start.tid = rivet_gettid()
                start.thread.host = pthread_self()
                // Like the first thread: SIGURG ends a blocking host call; faults are survived
                // on an alternate stack.
                var urgent = sigset_t()
                sigemptyset(&urgent)
                sigaddset(&urgent, SIGURG)
                pthread_sigmask(SIG_UNBLOCK, &urgent, nil)
                rivet_install_fault_handler()
                sem_post(start.ready)
                start.machine.runSpawned(start.thread, runner: start.runner)
                return nil
            }, context)
        guard created == 0 else {
            engine.remove(start.runner)
            Unmanaged<ThreadStart>.fromOpaque(context).release()
            return nil
        }
        hostThreads.started(handle)
        while sem_wait(start.ready) != 0 {}
        return Int64(start.tid)
    }

    /// The body of a guest thread's host thread.
    fileprivate func runSpawned(_ thread: GuestThread, runner: HartRunner) {
        timeKeeper.add(thread.hart)
        process.acquire(thread)
        if case .processEnds(let reason) = threadLoop(thread, runner: runner, driving: false, clock: ContinuousClock(), watched: true) {
            end(reason)
        }
        timeKeeper.remove(thread.hart)
        process.lock.release()
        engine.remove(runner)
        hostThreads.finished()
    }
}
