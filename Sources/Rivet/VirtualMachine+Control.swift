#if canImport(Glibc)
import Glibc
#endif
import CRivetHost
import RivetLinux
import RivetMachine
import Synchronization

/// Stops a virtual machine's run from any thread or task: a `Sendable` handle to the one
/// `VirtualMachine` it came from (`VirtualMachine.control`).
///
/// ```swift
/// let control = vm.control
/// Task.detached { try await Task.sleep(for: .seconds(1)); control.pause() }
/// var reason = vm.run()          // .paused after about a second
/// reason = vm.run()              // goes on where it stopped
/// ```
public struct RunControl: Sendable {
    let state: ControlState

    /// Stops the guest where it is, soon (within a few milliseconds: compiled code looks every
    /// few million instructions, the interpreter at every block, and a blocking syscall ends and
    /// runs again when the guest resumes): `run()` returns `.paused`. A pause asked between
    /// runs stops the next run before its first instruction. Every guest thread stops.
    public func pause() { state.request(pause: true) }

    /// Ends the guest for good, as soon as it can be stopped (as `pause` does): `run()` returns
    /// `.cancelled`, now and on every later call.
    public func cancel() { state.request(pause: false) }

    /// Whether `cancel()` was called.
    public var isCancelled: Bool { state.cancelled.load(ordering: .acquiring) }
}

/// What `RunControl` shares with its machine: the requests, and the running watchdog to wake.
final class ControlState: @unchecked Sendable {
    let paused = Atomic<Bool>(false)
    let cancelled = Atomic<Bool>(false)
    /// The first hart's slots and the running run's watchdog, as pointer bits (0: none). A
    /// `RunControl` may outlive its machine: the machine clears both before it goes, under the
    /// same lock a request takes.
    private let pointers: Mutex<(slots: UInt, watchdog: UInt)>

    init(slots: UnsafeMutablePointer<UInt64>) {
        pointers = Mutex((UInt(bitPattern: slots), 0))
    }

    /// The watchdog of the running run, to wake on a request.
    func setWatchdog(_ watchdog: OpaquePointer?) {
        pointers.withLock { $0.watchdog = watchdog.map { UInt(bitPattern: Int(bitPattern: UnsafeRawPointer($0))) } ?? 0 }
    }

    /// The machine is going: requests touch nothing of it any more.
    func detach() {
        pointers.withLock { $0 = (0, 0) }
    }

    /// Posts `signal` to the running run's watchdog from any thread (a guest timer's expiry);
    /// with no run, nothing. Through here, not the machine: the timer thread may fire while
    /// the machine goes away.
    func post(signal: Int32) {
        pointers.withLock { pointers in
            if pointers.watchdog != 0 { rivet_watchdog_post(OpaquePointer(bitPattern: pointers.watchdog), signal) }
        }
    }

    func request(pause: Bool) {
        if pause { paused.store(true, ordering: .releasing) } else { cancelled.store(true, ordering: .releasing) }
        pointers.withLock { pointers in
            if let slots = UnsafeMutablePointer<UInt64>(bitPattern: pointers.slots) {
                rivet_set_attention(slots, RIVET_ATTENTION_PAUSE | RIVET_ATTENTION_INTERRUPT)
            }
            if pointers.watchdog != 0 { rivet_watchdog_wake(OpaquePointer(bitPattern: pointers.watchdog)) }
        }
    }
}

/// A guest thread's way out of `threadLoop`.
enum LoopEnd {
    /// The thread ended the process, for this reason.
    case processEnds(ExitReason)
    /// The thread ended alone, or another thread ended the process.
    case threadEnded
    /// The run stops resumably, for this reason; every other thread parks.
    case suspended(ExitReason)
    /// The guest function `call` entered returned.
    case returned
}

/// Where guest threads other than the driving one wait while the run is suspended.
final class ParkingLot: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var generation: UInt64 = 0

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(changed, nil)
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        changed.deallocate()
    }

    /// The current generation: `wait(past:)` returns once it changed.
    var current: UInt64 {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return generation
    }

    func wait(past seen: UInt64) {
        pthread_mutex_lock(mutex)
        while generation == seen { pthread_cond_wait(changed, mutex) }
        pthread_mutex_unlock(mutex)
    }

    /// Wakes every parked thread.
    func advance() {
        pthread_mutex_lock(mutex)
        generation &+= 1
        pthread_cond_broadcast(changed)
        pthread_mutex_unlock(mutex)
    }
}

extension VirtualMachine {
    /// A `Sendable` handle that pauses or cancels this machine's runs from another thread or task.
    public var control: RunControl { RunControl(state: controlState) }

    /// Stops the running guest where it is, resumably (see `RunControl.pause()`); callable from
    /// any thread.
    public func pause() { control.pause() }

    /// Instructions the guest may still execute before `run()` returns
    /// `.instructionLimitReached`; nil for no bound. It starts at `Limits.instructions`; set it
    /// (or `addFuel`) to let a guest that used it up go on. Every thread's instructions count.
    public var fuel: UInt64? {
        get {
            guard let fuelEnd else { return nil }
            let used = instructionsRetired.load(ordering: .relaxed)
            return fuelEnd > used ? fuelEnd - used : 0
        }
        set { fuelEnd = newValue.map { instructionsRetired.load(ordering: .relaxed) &+ $0 } }
    }

    /// Gives the guest `instructions` more to execute (no effect without an instruction bound).
    public func addFuel(_ instructions: UInt64) {
        if let fuel { self.fuel = fuel + instructions }
    }

    /// Runs the guest on a host thread of its own, so that a long guest never holds one of
    /// Swift concurrency's threads, until it exits, is killed, reaches a limit or is paused.
    /// Cancelling the awaiting task cancels the guest (`.cancelled`).
    ///
    /// ```swift
    /// let reason = await vm.runAsync()
    /// ```
    public func runAsync() async -> ExitReason {
        let box = UncheckedMachine(self)
        let control = self.control
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<ExitReason, Never>) in
                let start = HostThreadStart { continuation.resume(returning: box.machine.run()) }
                if !start.launch() { continuation.resume(returning: box.machine.run()) }
            }
        } onCancel: {
            control.cancel()
        }
    }

    /// The suspension of the run, if one was asked (under the process's lock): every thread
    /// but the driving one parks, and is told so now (its blocking syscall ends, to run again).
    func suspend(_ reason: ExitReason) {
        if suspension == nil { suspension = reason }
        for thread in process.threads.values {
            rivet_set_attention(thread.hart.slots, RIVET_ATTENTION_PAUSE)
            thread.interrupt()
        }
        rivet_set_attention(process.hart.slots, RIVET_ATTENTION_PAUSE | RIVET_ATTENTION_INTERRUPT)
        // The driving thread may miss the interruption, about to block: its watchdog tells it
        // again until it stops.
        rivet_watchdog_wake(watchdog)
    }

    /// Parks `thread` (holding the process's lock, given up meanwhile) until the run resumes
    /// or the process ends.
    func park(_ thread: GuestThread) {
        let seen = parking.current
        process.lock.release()
        parking.wait(past: seen)
        process.acquire(thread)
        rivet_clear_attention(thread.hart.slots, RIVET_ATTENTION_PAUSE | RIVET_ATTENTION_DEADLINE)
    }

    /// Ends a suspension (under the process's lock): the parked threads go on.
    func resumeParkedThreads() {
        guard suspension != nil else { return }
        suspension = nil
        for thread in process.threads.values {
            rivet_clear_attention(thread.hart.slots, RIVET_ATTENTION_PAUSE | RIVET_ATTENTION_DEADLINE)
        }
        parking.advance()
    }

    /// The embedder's request seen by a stopped hart (under the process's lock): a pause
    /// suspends the run, a cancellation ends it.
    func takeControlRequest() -> LoopEnd? {
        if controlState.cancelled.load(ordering: .acquiring) { return .processEnds(.cancelled) }
        if controlState.paused.exchange(false, ordering: .acquiringAndReleasing) { suspend(.paused) }
        return nil
    }
}

/// A `VirtualMachine` handed to the host thread that runs it for `runAsync` (the awaiting task
/// does not touch it meanwhile).
private struct UncheckedMachine: @unchecked Sendable {
    let machine: VirtualMachine
    init(_ machine: VirtualMachine) { self.machine = machine }
}

/// Runs a closure on a new host thread, with a stack as large as a main thread's (guest
/// signal frames and deep syscall paths run on it).
final class HostThreadStart {
    let body: () -> Void

    init(_ body: @escaping () -> Void) { self.body = body }

    /// Starts the thread; false if the host could not.
    func launch() -> Bool {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, 8 << 20)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        let context = Unmanaged.passRetained(self).toOpaque()
        var handle = pthread_t()
        let created = pthread_create(
            &handle, &attributes,
            { raw in
                let start = Unmanaged<HostThreadStart>.fromOpaque(raw!).takeRetainedValue()
                start.body()
                return nil
            }, context)
        if created != 0 {
            Unmanaged<HostThreadStart>.fromOpaque(context).release()
            return false
        }
        return true
    }
}
