import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The compile queue and its worker threads (DESIGN.md decision 5).
///
/// The guest thread submits requests and keeps running in its current tier; workers take the
/// request that comes first in priority order — hotness × expected gain, aged by the time it has
/// waited so that nothing starves — compile it, and leave the result for the guest thread,
/// which installs it at its next pass through the run loop. A second request for a pc already
/// waiting is merged into the first (keeping the higher priority). A budget of compiles per
/// time window keeps a start-up burst from taking the CPU from the guest.
///
/// The queue is bounded (`capacity` requests): past it a request is refused, and its block
/// keeps running where it is and asks again later. Every operation is O(log n): requests wait in
/// a binary heap ordered by a fixed key, `requested − agingNanoseconds × log2(priority)` (a
/// request twice as hot counts as made `agingNanoseconds` earlier), with an index by pc.
///
/// With no worker threads, nothing here runs: the engine compiles on the guest thread.
final class CompileQueue: @unchecked Sendable {
    /// Waiting time worth a doubling of priority.
    static let agingNanoseconds: Double = 2_000_000
    /// About what a waiting request takes: its decoded instructions and guest bytes.
    static let requestBytes = 1024

    /// What happened to a submitted request.
    enum Submission: Equatable {
        case queued
        /// One for the same pc was waiting: merged into it.
        case merged
        /// The queue is full: refused.
        case refused
    }

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let wake: UnsafeMutablePointer<pthread_cond_t>
    private var heap = RequestHeap()
    private var completed: [CompiledBlock] = []
    private var failed: [CompileRequest] = []
    private var stopping = false
    private var threads: [pthread_t] = []
    /// Set while `completed` or `failed` is non-empty, read without the lock by the guest thread.
    private let ready = Atomic<Bool>(false)

    /// Most requests waiting at once.
    let capacity: Int
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
    private(set) var refused: UInt64 = 0
    /// The CPU clocks of the workers running, and the CPU time of those that stopped.
    private var workerClocks: [clockid_t] = []
    private var stoppedWorkersCPU: UInt64 = 0

    /// Starts `threads` workers (none: a queue that only orders, for tests).
    init(threads count: Int, capacity: Int = 4096, windowNanoseconds: UInt64 = 10_000_000, windowBudget: Int = 400) {
        self.capacity = max(1, capacity)
        self.windowNanoseconds = windowNanoseconds
        self.windowBudget = windowBudget
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        wake = .allocate(capacity: 1)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(wake, &attributes)
        pthread_condattr_destroy(&attributes)
        pendingWorkers = count
    }

    /// Workers not started yet: they start at the first request, so that a machine that never
    /// compiles (a short sandbox, a copy from a snapshot that ends soon) makes no thread.
    private var pendingWorkers = 0

    private func startWorkers(_ count: Int) {
        for _ in 0..<count {
            var thread = pthread_t()
            let context = Unmanaged.passUnretained(self).toOpaque()
            let status = pthread_create(&thread, nil, { argument in
                // Workers take no asynchronous signals: those are the guest's (forwarded).
                var all = sigset_t()
                sigfillset(&all)
                for synchronous in [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP] { sigdelset(&all, synchronous) }
                pthread_sigmask(SIG_BLOCK, &all, nil)
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

    /// Worker threads running, or to start at the first request.
    var workerCount: Int {
        lock()
        defer { unlock() }
        return threads.count + pendingWorkers
    }

    /// Starts `count` workers again after `shutdown` (a fork stops them: a thread cannot be
    /// forked, and one holding the queue's lock would leave the child's lock held for ever).
    func restart(threads count: Int) {
        lock()
        stopping = false
        pendingWorkers = count
        unlock()
    }

    /// Drops every waiting request and every result not taken yet (call with the workers
    /// stopped: `shutdown`): their translation ids no longer mean anything (`Engine.programReplaced`).
    func discardAll() {
        lock()
        while heap.popFirst() != nil {}
        completed.removeAll()
        failed.removeAll()
        ready.store(false, ordering: .releasing)
        unlock()
    }

    /// Stops the workers and waits for them (pending requests are dropped).
    func shutdown() {
        lock()
        stopping = true
        pendingWorkers = 0
        pthread_cond_broadcast(wake)
        unlock()
        for thread in threads { pthread_join(thread, nil) }
        threads.removeAll()
    }

    private func lock() { pthread_mutex_lock(mutex) }
    private func unlock() { pthread_mutex_unlock(mutex) }

    /// The order key of a request: smaller goes first.
    static func key(requested: UInt64, priority: Double) -> Double {
        Double(requested) - agingNanoseconds * log2(max(priority, 1))
    }

    /// Queues a request, merges it into the one waiting for the same pc, or refuses it when
    /// the queue is full.
    @discardableResult
    func submit(_ request: CompileRequest) -> Submission {
        lock()
        defer { unlock() }
        if heap.raise(request.pc, to: Self.key(requested: request.requested, priority: request.priority)) {
            merged += 1
            return .merged
        }
        guard heap.count < capacity else {
            refused += 1
            return .refused
        }
        heap.insert(request, key: Self.key(requested: request.requested, priority: request.priority))
        maxLength = max(maxLength, heap.count)
        if pendingWorkers > 0 {
            startWorkers(pendingWorkers)
            pendingWorkers = 0
        }
        // A busy worker takes the request when it is done; waking costs a futex call (and, on
        // a flat profile's tens of thousands of requests, 5% of the guest's time).
        if idleWorkers > 0 { pthread_cond_signal(wake) }
        return .queued
    }

    /// Raises the priority of the waiting request for `pc` (a second request merged into the
    /// first, made now). Returns false if none is waiting or being compiled.
    func raise(_ pc: UInt64, to priority: Double, now: UInt64) -> Bool {
        lock()
        defer { unlock() }
        if heap.raise(pc, to: Self.key(requested: now, priority: priority)) {
            merged += 1
            return true
        }
        return inFlight.contains(pc)
    }

    private var inFlight: Set<UInt64> = []
    /// Workers waiting for a request (not those waiting for the budget's next window).
    private var idleWorkers = 0

    /// Requests waiting now.
    var length: Int {
        lock()
        defer { unlock() }
        return heap.count
    }

    /// Whether no request could be queued now.
    var isFull: Bool {
        lock()
        defer { unlock() }
        return heap.count >= capacity
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

    /// Takes the request that comes first, as a worker would (for tests of the order).
    func takeNext() -> CompileRequest? {
        lock()
        defer { unlock() }
        return heap.popFirst()
    }

    /// CPU time the workers spent, those running and those stopped (not on the guest's wall
    /// clock: they run beside it).
    var workerCPUNanoseconds: UInt64 {
        lock()
        defer { unlock() }
        return workerClocks.reduce(stoppedWorkersCPU) { total, clock in
            var ts = timespec()
            return clock_gettime(clock, &ts) == 0 ? total + nanoseconds(ts) : total
        }
    }

    private func nanoseconds(_ ts: timespec) -> UInt64 { UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec) }

    private func work() {
        var compiler = BlockCompiler()
        var clock = clockid_t()
        let hasClock = pthread_getcpuclockid(pthread_self(), &clock) == 0
        lock()
        if hasClock { workerClocks.append(clock) }
        defer {
            // Its CPU time stays counted once the thread is gone.
            if hasClock {
                var ts = timespec()
                if clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0 { stoppedWorkersCPU += nanoseconds(ts) }
                workerClocks.removeAll { $0 == clock }
            }
            unlock()
        }
        while true {
            if stopping { break }
            let now = monotonicNanoseconds()
            if now &- windowStart >= windowNanoseconds {
                windowStart = now
                windowCount = 0
            }
            guard windowCount < windowBudget, let request = heap.popFirst() else {
                if heap.count == 0 || windowCount < windowBudget {
                    idleWorkers += 1
                    pthread_cond_wait(wake, mutex)
                    idleWorkers -= 1
                } else {
                    // Out of budget: wait until the window ends (or shutdown).
                    let end = windowStart &+ windowNanoseconds
                    var until = timespec(tv_sec: Int(end / 1_000_000_000), tv_nsec: Int(end % 1_000_000_000))
                    pthread_cond_timedwait(wake, mutex, &until)
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
    }
}

/// The waiting requests: a binary min-heap on the order key, with the position of each pc.
struct RequestHeap {
    private var entries: [(key: Double, request: CompileRequest)] = []
    private var position: [UInt64: Int] = [:]

    var count: Int { entries.count }

    mutating func insert(_ request: CompileRequest, key: Double) {
        entries.append((key, request))
        position[request.pc] = entries.count - 1
        siftUp(entries.count - 1)
    }

    /// Moves the request for `pc` earlier if `key` is smaller than its own. Returns whether a
    /// request for `pc` is waiting.
    mutating func raise(_ pc: UInt64, to key: Double) -> Bool {
        guard let k = position[pc] else { return false }
        if key < entries[k].key {
            entries[k].key = key
            siftUp(k)
        }
        return true
    }

    mutating func popFirst() -> CompileRequest? {
        guard !entries.isEmpty else { return nil }
        swap(0, entries.count - 1)
        let (_, request) = entries.removeLast()
        position.removeValue(forKey: request.pc)
        if !entries.isEmpty { siftDown(0) }
        return request
    }

    private mutating func swap(_ a: Int, _ b: Int) {
        guard a != b else { return }
        entries.swapAt(a, b)
        position[entries[a].request.pc] = a
        position[entries[b].request.pc] = b
    }

    private mutating func siftUp(_ start: Int) {
        var k = start
        while k > 0 {
            let parent = (k - 1) / 2
            guard entries[k].key < entries[parent].key else { return }
            swap(k, parent)
            k = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var k = start
        while true {
            let left = 2 * k + 1
            guard left < entries.count else { return }
            var first = left
            if left + 1 < entries.count, entries[left + 1].key < entries[left].key { first = left + 1 }
            guard entries[first].key < entries[k].key else { return }
            swap(k, first)
            k = first
        }
    }
}

/// CLOCK_MONOTONIC in nanoseconds.
func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// CPU time of the calling thread in nanoseconds (a system call, not the vDSO's: a few hundred
/// nanoseconds, too dear for a tier-1 compile of a few microseconds).
func threadCPUNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
