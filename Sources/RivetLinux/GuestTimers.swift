#if canImport(Glibc)
import Glibc
#endif

/// The guest's interval timers — setitimer's ITIMER_REAL (and so alarm) and the POSIX timers
/// of timer_create — kept by one host thread of Rivet's, started at the first timer armed. At
/// each expiry it calls `fire` (outside its lock) with the timer's signal and, for a timer
/// aimed at one thread (SIGEV_THREAD_ID), that thread's id; a periodic timer is armed again,
/// and the periods it missed count as overruns (timer_getoverrun).
///
/// Deadlines are on the monotonic clock: a CLOCK_REALTIME timer set for an absolute time is
/// converted when armed, so a later change of the host's wall clock does not move it.
final class GuestTimers: @unchecked Sendable {
    struct Timer {
        /// Monotonic nanoseconds of the next expiry; 0: disarmed.
        var deadline: UInt64 = 0
        var interval: UInt64 = 0
        var signal: Int32
        /// SIGEV_THREAD_ID's thread; nil: the process.
        var thread: Int64?
        /// SIGEV_NONE: expires without a signal.
        var silent = false
        var overrun: Int64 = 0
    }

    /// The key of ITIMER_REAL among the POSIX timers (whose ids start at 0).
    static let realTimer = -1

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var timers: [Int: Timer] = [:]
    private var started = false
    private var stopping = false
    private var thread = pthread_t()
    /// Delivers an expiry: the signal, and the target thread (nil: the process).
    var fire: (Int32, Int64?) -> Void = { _, _ in }
    /// The most POSIX timers a process may have (Linux's limit is the pending-signal rlimit).
    static let limit = 1024

    init() { initializeLocks() }

    private func initializeLocks() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(changed, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        stop()
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        changed.deallocate()
    }

    /// Ends the thread, waiting for an expiry it is delivering: `fire` is not called after this
    /// returns, and timers armed later never fire. The owner of what `fire` reaches calls it
    /// before going away (a timer thread outliving a machine called into freed memory).
    func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_broadcast(changed)
        let joinable = started
        started = false
        pthread_mutex_unlock(mutex)
        if joinable { pthread_join(thread, nil) }
    }

    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }

    /// A new disarmed POSIX timer's id, or nil past the limit.
    func create(signal: Int32, thread: Int64?, silent: Bool) -> Int? {
        locked {
            guard timers.count < Self.limit + 1 else { return nil }
            var id = 0
            while timers[id] != nil { id += 1 }
            timers[id] = Timer(signal: signal, thread: thread, silent: silent)
            return id
        }
    }

    func exists(_ id: Int) -> Bool { locked { timers[id] != nil } }

    func delete(_ id: Int) -> Bool {
        locked {
            guard timers.removeValue(forKey: id) != nil else { return false }
            pthread_cond_broadcast(changed)
            return true
        }
    }

    /// Arms (deadline > 0) or disarms timer `id` (ITIMER_REAL is created on demand, for
    /// SIGALRM to the process); returns what it had left and its interval, in nanoseconds.
    func set(_ id: Int, deadline: UInt64, interval: UInt64) -> (remaining: UInt64, interval: UInt64)? {
        let old: (UInt64, UInt64)? = locked {
            if id == Self.realTimer, timers[id] == nil { timers[id] = Timer(signal: 14, thread: nil) }
            guard var timer = timers[id] else { return nil }
            let now = Self.now()
            // An armed timer never reads as 0 left (that would say disarmed).
            let before = (timer.deadline == 0 ? 0 : timer.deadline > now ? timer.deadline - now : 1, timer.interval)
            timer.deadline = deadline
            timer.interval = deadline == 0 ? 0 : interval
            timer.overrun = 0
            timers[id] = timer
            if deadline != 0, !started, !stopping { startThread() }
            pthread_cond_broadcast(changed)
            return before
        }
        return old
    }

    /// What timer `id` has left (0: disarmed), its interval, and its overrun count.
    func get(_ id: Int) -> (remaining: UInt64, interval: UInt64, overrun: Int64)? {
        locked {
            if id == Self.realTimer, timers[id] == nil { return (0, 0, 0) }
            guard let timer = timers[id] else { return nil }
            let now = Self.now()
            let left = timer.deadline == 0 ? 0 : (timer.deadline > now ? timer.deadline - now : 1)
            return (left, timer.interval, timer.overrun)
        }
    }

    /// execve: the POSIX timers go, ITIMER_REAL stays (POSIX).
    func deletePOSIXTimers() {
        locked {
            timers = timers.filter { $0.key == Self.realTimer }
            pthread_cond_broadcast(changed)
        }
    }

    /// After a host fork, in the child: a child inherits no timer, and the thread is not there.
    func afterForkInChild() {
        initializeLocks()
        timers = [:]
        started = false
        stopping = false
    }

    private func startThread() {
        let context = Unmanaged.passUnretained(self).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        let created = pthread_create(
            &thread, &attributes,
            { raw in
                let timers = Unmanaged<GuestTimers>.fromOpaque(raw!).takeUnretainedValue()
                var all = sigset_t()
                sigfillset(&all)
                pthread_sigmask(SIG_BLOCK, &all, nil)
                timers.run()
                return nil
            }, context)
        pthread_attr_destroy(&attributes)
        started = created == 0
    }

    /// The thread: sleeps until the next deadline, fires what expired, again.
    private func run() {
        pthread_mutex_lock(mutex)
        while !stopping {
            let now = Self.now()
            var due: [(Int32, Int64?)] = []
            var next: UInt64 = .max
            for (id, var timer) in timers where timer.deadline != 0 {
                if timer.deadline <= now {
                    if !timer.silent { due.append((timer.signal, timer.thread)) }
                    if timer.interval > 0 {
                        let missed = (now - timer.deadline) / timer.interval
                        timer.overrun = Int64(clamping: missed)
                        timer.deadline += (missed + 1) * timer.interval
                    } else {
                        timer.deadline = 0
                    }
                    timers[id] = timer
                }
                if timer.deadline != 0 { next = min(next, timer.deadline) }
            }
            if !due.isEmpty {
                pthread_mutex_unlock(mutex)
                for (signal, thread) in due { fire(signal, thread) }
                pthread_mutex_lock(mutex)
                continue
            }
            if next == .max {
                pthread_cond_wait(changed, mutex)
            } else {
                var until = timespec(tv_sec: Int(next / 1_000_000_000), tv_nsec: Int(next % 1_000_000_000))
                pthread_cond_timedwait(changed, mutex, &until)
            }
        }
        pthread_mutex_unlock(mutex)
    }
}
