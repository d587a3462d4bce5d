import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The compile queue and its worker threads (DESIGN.md decision 5).
///
/// The guest thread submits requests and keeps running in its current tier; workers take the
/// request with the highest priority — hotness × expected gain, raised by the time it has
/// waited so that nothing starves — compile it, and leave the result for the guest thread,
/// which installs it at its next pass through the run loop. A second request for a pc already
/// waiting is merged into the first (keeping the higher priority). A budget of compiles per
/// time window keeps a start-up burst from taking the CPU from the guest.
///
/// With no worker threads, nothing here runs: the engine compiles on the guest thread.
final class CompileQueue: @unchecked Sendable {
    /// Time a request must wait to double its priority.
    static let agingNanoseconds: Double = 2_000_000

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let wake: UnsafeMutablePointer<pthread_cond_t>
    private var pending: [CompileRequest] = []
    private var completed: [CompiledBlock] = []
    private var failed: [CompileRequest] = []
    private var stopping = false
    private var threads: [pthread_t] = []
    /// Set while `completed` or `failed` is non-empty, read without the lock by the guest thread.
    private let ready = Atomic<Bool>(false)

    /// At most `windowBudget` compiles start in each window of `windowNanoseconds`.
    let windowNanoseconds: UInt64
    let windowBudget: Int
    private var windowStart: UInt64 = 0
    private var windowCount = 0

    // Statistics, under the lock.
    private(set) var maxLength = 0
    private(set) var totalWaitNanoseconds: UInt64 = 0
    private(set) var started: UInt64 = 0
    private(set) var merged: UInt64 = 0

    /// Starts `threads` workers.
    init(threads count: Int, windowNanoseconds: UInt64 = 10_000_000, windowBudget: Int = 400) {
        self.windowNanoseconds = windowNanoseconds
        self.windowBudget = windowBudget
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        wake = .allocate(capacity: 1)
        pthread_cond_init(wake, nil)
        for _ in 0..<count {
            var thread = pthread_t()
            let context = Unmanaged.passUnretained(self).toOpaque()
            let status = pthread_create(&thread, nil, { argument in
                let queue = Unmanaged<CompileQueue>.fromOpaque(argument!).takeUnretainedValue()
                queue.work()
                return nil
            }, context)
            if status == 0 { threads.append(thread) }
        }
    }

    deinit {
        shutdown()
        pthread_cond_destroy(wake)
        pthread_mutex_destroy(mutex)
        wake.deallocate()
        mutex.deallocate()
    }

    /// Worker threads running.
    var workerCount: Int { threads.count }

    /// Stops the workers and waits for them (pending requests are dropped).
    func shutdown() {
        lock()
        stopping = true
        pthread_cond_broadcast(wake)
        unlock()
        for thread in threads { pthread_join(thread, nil) }
        threads.removeAll()
    }

    private func lock() { pthread_mutex_lock(mutex) }
    private func unlock() { pthread_mutex_unlock(mutex) }

    /// Queues a request. Returns false if one for the same pc is already waiting (merged).
    @discardableResult
    func submit(_ request: CompileRequest) -> Bool {
        lock()
        defer { unlock() }
        if let k = pending.firstIndex(where: { $0.pc == request.pc }) {
            if request.priority > pending[k].priority {
                let old = pending[k]
                pending[k] = CompileRequest(
                    id: old.id, pc: old.pc, block: old.block, guestBytes: old.guestBytes, requested: old.requested,
                    priority: request.priority)
            }
            merged += 1
            return false
        }
        pending.append(request)
        maxLength = max(maxLength, pending.count)
        pthread_cond_signal(wake)
        return true
    }

    /// Raises the priority of the waiting request for `pc` (a second request merged into the
    /// first). Returns false if none is waiting or being compiled.
    func raise(_ pc: UInt64, to priority: Double) -> Bool {
        lock()
        defer { unlock() }
        if let k = pending.firstIndex(where: { $0.pc == pc }) {
            if priority > pending[k].priority {
                let old = pending[k]
                pending[k] = CompileRequest(
                    id: old.id, pc: old.pc, block: old.block, guestBytes: old.guestBytes, requested: old.requested,
                    priority: priority)
            }
            merged += 1
            return true
        }
        return inFlight.contains(pc)
    }

    private var inFlight: Set<UInt64> = []

    /// Requests waiting now.
    var length: Int {
        lock()
        defer { unlock() }
        return pending.count
    }

    /// Whether results are waiting for the guest thread (a racy but safe hint).
    @inline(__always)
    var hasResults: Bool { ready.load(ordering: .acquiring) }

    /// Takes the finished compiles and the requests that failed.
    func takeResults() -> (completed: [CompiledBlock], failed: [CompileRequest]) {
        lock()
        defer { unlock() }
        let results = (completed, failed)
        completed.removeAll()
        failed.removeAll()
        ready.store(false, ordering: .releasing)
        return results
    }

    /// The waiting request with the highest aged priority.
    private func next(now: UInt64) -> CompileRequest? {
        guard !pending.isEmpty else { return nil }
        var best = 0
        var bestScore = -Double.infinity
        for (k, r) in pending.enumerated() {
            let waited = Double(now &- r.requested)
            let score = r.priority * (1 + waited / Self.agingNanoseconds)
            if score > bestScore {
                best = k
                bestScore = score
            }
        }
        return pending.remove(at: best)
    }

    private func work() {
        var compiler = BlockCompiler()
        lock()
        while true {
            if stopping { break }
            let now = monotonicNanoseconds()
            if now &- windowStart >= windowNanoseconds {
                windowStart = now
                windowCount = 0
            }
            guard windowCount < windowBudget, let request = next(now: now) else {
                if pending.isEmpty || windowCount < windowBudget {
                    pthread_cond_wait(wake, mutex)
                } else {
                    // Out of budget: sleep until the window ends.
                    unlock()
                    var pause = timespec(tv_sec: 0, tv_nsec: Int(windowNanoseconds &- (now &- windowStart)))
                    nanosleep(&pause, nil)
                    lock()
                }
                continue
            }
            windowCount += 1
            started += 1
            totalWaitNanoseconds &+= now &- request.requested
            inFlight.insert(request.pc)
            unlock()
            let result = compiler.compile(request)
            lock()
            inFlight.remove(request.pc)
            if let result { completed.append(result) } else { failed.append(request) }
            ready.store(true, ordering: .releasing)
        }
        unlock()
    }
}

/// CLOCK_MONOTONIC in nanoseconds.
func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
