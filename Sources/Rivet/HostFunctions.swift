import CRivetHost
import RivetJIT
import RivetLinux
import RivetMachine

/// A function of the embedding program that the guest calls with `ecall`, as a syscall: the
/// number in a7, arguments in a0...a5, the result in a0. It runs on the guest thread's host
/// thread, while that guest thread waits (and no other guest thread is in a syscall or a host
/// function).
public typealias HostFunction = (HostCall) -> HostCallResult

/// What a host function returns to the guest.
public enum HostCallResult: Sendable {
    /// The call returns this value in a0.
    case value(UInt64)
    /// The call fails with this errno (a0 = -errno, as a Linux syscall fails).
    case failure(errno: Int32)
    /// The call returns `value`, and the run stops resumably: `run()` returns `.paused`, and
    /// the next `run()` goes on after the `ecall`.
    case pause(returning: UInt64)
    /// The guest ends, as by exit_group with this status.
    case exit(Int32)
}

/// A guest's call of a host function: its number and arguments, the calling thread's
/// registers, and the guest's memory, checked as the guest's own accesses are.
///
/// ```swift
/// vm.register(syscall: 1000) { call in
///     guard let text = try? call.readString(at: call.argument(0)) else { return .failure(errno: 14) }
///     print("guest says", text)
///     return .value(UInt64(text.utf8.count))
/// }
/// ```
///
/// A `HostCall` is valid only while its host function runs: do not keep it.
public struct HostCall {
    /// The machine the guest runs in: its `call` calls back into the guest (re-entrantly).
    public unowned(unsafe) let machine: VirtualMachine
    /// The calling thread's hart's slots (`HartState`): valid while the function runs.
    let slots: UnsafeMutablePointer<UInt64>
    /// The syscall number (a7).
    public let number: Int

    /// Argument `n` (0...5: a0...a5).
    public func argument(_ n: Int) -> UInt64 {
        precondition((0...5).contains(n), "syscall arguments are a0...a5 (0...5), not \(n)")
        return slots[10 + n]  // HartState.Slot.x + 10 + n (a literal: this is a hot path)
    }

    /// The calling thread's integer register `n` (0...31); writes to x0 are ignored. a0 is
    /// overwritten by the call's result.
    public subscript(x n: Int) -> UInt64 {
        get {
            precondition((0...31).contains(n), "x\(n) is not a RISC-V integer register")
            return slots[HartState.Slot.x + n]
        }
        nonmutating set {
            precondition((0...31).contains(n), "x\(n) is not a RISC-V integer register")
            if n != 0 { slots[HartState.Slot.x + n] = newValue }
        }
    }

    /// The calling thread's floating-point register `n` (0...31), as raw bits.
    public subscript(f n: Int) -> UInt64 {
        get {
            precondition((0...31).contains(n), "f\(n) is not a RISC-V floating-point register")
            return slots[HartState.Slot.f + n]
        }
        nonmutating set {
            precondition((0...31).contains(n), "f\(n) is not a RISC-V floating-point register")
            slots[HartState.Slot.f + n] = newValue
        }
    }

    /// The address of the `ecall`.
    public var pc: UInt64 { slots[HartState.Slot.pc] }

    /// `count` bytes of guest memory at `address`.
    /// - Throws: `RivetError` (`.guestMemoryFault`) if the guest may not read them.
    public func readMemory(at address: UInt64, count: Int) throws(RivetError) -> [UInt8] {
        try machine.readMemory(at: address, count: count)
    }

    /// Writes `bytes` to guest memory at `address`.
    /// - Throws: `RivetError` (`.guestMemoryFault`) if the guest may not write them; nothing is
    ///   written then.
    public func writeMemory(_ bytes: some Collection<UInt8>, at address: UInt64) throws(RivetError) {
        try machine.writeMemory(bytes, at: address)
    }

    /// The NUL-terminated string at `address` (at most `maxLength` bytes).
    /// - Throws: `RivetError` (`.guestMemoryFault`) if it runs into memory the guest may not read.
    public func readString(at address: UInt64, maxLength: Int = 4096) throws(RivetError) -> String {
        try machine.readString(at: address, maxLength: maxLength)
    }

    /// The little-endian integer of type `T` at `address`.
    /// - Throws: `RivetError` (`.guestMemoryFault`) if the guest may not read it.
    public func load<T: FixedWidthInteger>(_ type: T.Type, at address: UInt64) throws(RivetError) -> T {
        let bytes = try machine.readMemory(at: address, count: MemoryLayout<T>.size)
        return bytes.reversed().reduce(T.zero) { $0 << 8 | T(truncatingIfNeeded: $1) }
    }

    /// Stores `value` little-endian at `address`.
    /// - Throws: `RivetError` (`.guestMemoryFault`) if the guest may not write there.
    public func store<T: FixedWidthInteger>(_ value: T, at address: UInt64) throws(RivetError) {
        let bytes = (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
        try machine.writeMemory(bytes, at: address)
    }
}

/// A registered host function, held by reference so that the table `HostCallState` points
/// into needs no reference counting to call it.
final class HostFunctionBox {
    let number: Int
    let function: HostFunction
    init(number: Int, function: @escaping HostFunction) {
        self.number = number
        self.function = function
    }
}

/// Host functions and the state of the running ones, as plain memory (`VirtualMachine.hostCalls`).
///
/// A host function called from JIT code costs tens of nanoseconds; reference counting and the
/// dynamic exclusivity checks of a class's properties cost as much again each (measured:
/// about half of a 280 ns round trip before this). The engine's ecall handler therefore reads
/// only this struct through a pointer, and holds objects `Unmanaged`.
struct HostCallState {
    /// The machine (it owns this struct, the engine and its harts).
    var machine: Unmanaged<VirtualMachine>?
    /// The first thread and its runner, which the JIT's ecall handler serves (nil: none).
    var thread: Unmanaged<GuestThread>?
    var runner: Unmanaged<HartRunner>?
    /// The functions by number, in registration order (kept alive by `hostFunctionBoxes`).
    var table = UnsafeMutableBufferPointer<Unmanaged<HostFunctionBox>>(start: nil, count: 0)
    /// The guest thread in the innermost running host function, and its runner: a `call` from
    /// a host function runs on its thread. (Both outlive the function's run; the outer frames'
    /// are kept on the host stack by the callers.)
    var handlerThread: Unmanaged<GuestThread>?
    var handlerRunner: Unmanaged<HartRunner>?
    /// Host functions running, and those of them running in place (from JIT code or where the
    /// engine stopped): the run around those counts the instructions of their guest calls.
    var running = 0
    var inPlace = 0
    /// Guest calls made so far (a host function that made none changed nothing but registers
    /// and memory: its caller can skip the checks a guest call needs after it).
    var guestCalls: UInt64 = 0
    /// Whether gdb debugs the guest (host functions are then called from the run loop, where
    /// the debugger sees every stop).
    var debugged = false
    /// Whether replaced tables wait to be freed (`VirtualMachine.retiredHostFunctionTables`).
    var hasRetiredTables = false
    /// Whether the innermost host function holds the process's lock. One called from JIT code
    /// runs without it (the first thread runs alone, and no other host thread takes it); it is
    /// taken when the function needs it — to call into the guest, to pause or end the run —
    /// and given back when the function returns.
    var lock = LockState.held

    enum LockState {
        case held
        /// Not taken (yet): a host function called from JIT code.
        case notTaken
        /// Taken by the host function called from JIT code, to be given back after it.
        case taken
    }

    /// The function for syscall `number`, if one is registered (a short linear search: few
    /// functions are registered, and this is faster than hashing for them).
    @inline(__always)
    func function(_ number: Int) -> Unmanaged<HostFunctionBox>? {
        for entry in table where entry._withUnsafeGuaranteedRef({ $0.number == number }) { return entry }
        return nil
    }
}

/// The engine's ecall handler for host functions (`HartState.Slot.ecallContext` points at the
/// machine's `HostCallState`; the machine owns the engine, whose JIT code calls this).
private let hostFunctionEcallHandler: EcallHandler = { slots, pc, fromJIT in
    let state = UnsafeMutablePointer<HostCallState>(bitPattern: UInt(slots[HartState.Slot.ecallContext]))!
    guard let function = state.pointee.function(Int(truncatingIfNeeded: slots[HartState.Slot.x + 17])) else {
        return EcallOutcome.notHandled.rawValue
    }
    return state.pointee.machine.unsafelyUnwrapped._withUnsafeGuaranteedRef {
        $0.callHostFunctionInPlace(function, state, slots, pc: pc, fromJIT: fromJIT != 0).rawValue
    }
}

extension VirtualMachine {
    /// Makes `ecall` with syscall number `number` (a7) call `function` instead of the Linux
    /// syscall of that number (riscv64 Linux uses numbers below 500: pick your own above, e.g.
    /// from 0x10000, or take over one of Linux's, such as `write`, to intercept it).
    public func register(syscall number: Int, _ function: @escaping HostFunction) {
        hostFunctions[number] = function
        installHostFunctions()
    }

    /// Gives syscall `number` back to Linux (or to nothing: ENOSYS).
    public func unregister(syscall number: Int) {
        hostFunctions[number] = nil
        installHostFunctions()
    }

    /// The guest thread in the innermost running host function, and its runner.
    var handlerThread: GuestThread? { hostCalls.pointee.handlerThread?.takeUnretainedValue() }
    var handlerRunner: HartRunner? { hostCalls.pointee.handlerRunner?.takeUnretainedValue() }

    /// Gives the engine the host functions to call in place: from JIT code through the ecall
    /// handler, from the interpreter through the runner's hook. (A new table each time: a host
    /// function that registers another may be running from the old one.)
    private func installHostFunctions() {
        let state = hostCalls
        retiredHostFunctionTables.append((state.pointee.table, hostFunctionBoxes))
        hostFunctionBoxes = hostFunctions.sorted { $0.key < $1.key }.map { HostFunctionBox(number: $0.key, function: $0.value) }
        let table = UnsafeMutableBufferPointer<Unmanaged<HostFunctionBox>>.allocate(capacity: hostFunctionBoxes.count)
        for (k, box) in hostFunctionBoxes.enumerated() { table[k] = Unmanaged.passUnretained(box) }
        state.pointee.table = table
        state.pointee.hasRetiredTables = true
        if state.pointee.running == 0 { releaseRetiredHostFunctionTables() }

        let runner = engine.main
        guard !hostFunctions.isEmpty, let thread = mainThread, thread.hart === runner.hart else {
            state.pointee.thread = nil
            state.pointee.runner = nil
            engine.setEcallHandler(nil, context: nil)
            return
        }
        state.pointee.machine = Unmanaged.passUnretained(self)
        state.pointee.thread = Unmanaged.passUnretained(thread)
        state.pointee.runner = Unmanaged.passUnretained(runner)
        engine.setEcallHandler(hostFunctionEcallHandler, context: UnsafeMutableRawPointer(state))
    }

    /// Frees the tables (and functions) replaced, once no host function runs from them.
    func releaseRetiredHostFunctionTables() {
        for (table, _) in retiredHostFunctionTables { table.deallocate() }
        retiredHostFunctionTables.removeAll()
        hostCalls.pointee.hasRetiredTables = false
    }

    /// A host function called where the engine is at its `ecall` (the engine's ecall handler,
    /// while the first thread runs alone): from JIT code, which goes on without leaving if the
    /// function lets it, or from the run loop (after the interpreter, or JIT code that could not
    /// call it), which goes on without returning from the run. The common case — a value or an
    /// errno, no guest call — touches only plain memory and takes no lock.
    func callHostFunctionInPlace(
        _ function: Unmanaged<HostFunctionBox>, _ state: UnsafeMutablePointer<HostCallState>,
        _ slots: UnsafeMutablePointer<UInt64>, pc: UInt64, fromJIT: Bool
    ) -> EcallOutcome {
        guard !state.pointee.debugged, let threadRef = state.pointee.thread, let runnerRef = state.pointee.runner,
            !threadRef._withUnsafeGuaranteedRef({ $0.isTerminated })
        else { return .notHandled }
        slots[HartState.Slot.pc] = pc
        // A guest call from the function runs this hart's JIT code again, from the run loop:
        // JIT code that called waits on the stack with its budget, and gets its slots back;
        // the hart counts as in JIT code meanwhile (`HartRunner.ecallDepth`).
        let budget = slots[HartState.Slot.budget]
        let budgetAtEntry = slots[HartState.Slot.budgetAtEntry]
        let activity = rivet_activity(slots)
        rivet_set_activity(slots, UInt64(RIVET_ACTIVITY_SYSCALL))
        if fromJIT { runnerRef._withUnsafeGuaranteedRef { $0.ecallDepth += 1 } }
        let guestCalls = state.pointee.guestCalls
        let outerLock = state.pointee.lock
        state.pointee.lock = .notTaken
        state.pointee.inPlace += 1
        let result = run(function, state, thread: threadRef, runner: runnerRef, slots)
        state.pointee.inPlace -= 1
        if fromJIT { runnerRef._withUnsafeGuaranteedRef { $0.ecallDepth -= 1 } }
        var outcome = EcallOutcome.resume
        switch result {
        case .value(let value) where state.pointee.guestCalls == guestCalls:
            slots[10] = value  // a0
            slots[HartState.Slot.pc] = pc &+ 4
        case .failure(let errno) where state.pointee.guestCalls == guestCalls:
            slots[10] = UInt64(bitPattern: -Int64(errno))
            slots[HartState.Slot.pc] = pc &+ 4
        default:
            // A pause, an exit, or a guest call that may have ended or suspended the guest (or
            // started threads): with the lock, as the run loop would; and the run loop looks at
            // the hart again in any case.
            if state.pointee.lock == .notTaken {
                threadRef._withUnsafeGuaranteedRef { process.acquire($0) }
                state.pointee.lock = .taken
            }
            let end = threadRef._withUnsafeGuaranteedRef { finishHostCall(result, thread: $0) }
            if end != nil || suspension != nil || process.isEnding {
                hostCallStopped = end ?? .suspended(.paused)
                outcome = .stopped
            } else {
                outcome = .handled
            }
        }
        if state.pointee.lock == .taken { process.lock.release() }
        state.pointee.lock = outerLock
        // Something for the run loop (a process ending, changed code, an interruption).
        if outcome == .resume, slots[HartState.Slot.attention] != 0 { outcome = .handled }
        slots[HartState.Slot.budget] = budget
        slots[HartState.Slot.budgetAtEntry] = budgetAtEntry
        rivet_set_activity(slots, activity)
        return outcome
    }

    /// Runs a host function for the `ecall` the thread stopped at (holding the process's lock).
    /// - Returns: how the thread's loop ends, if it does.
    func callHostFunction(_ function: Unmanaged<HostFunctionBox>, thread: GuestThread, runner: HartRunner) -> LoopEnd? {
        let result = run(function, hostCalls, thread: .passUnretained(thread), runner: .passUnretained(runner), thread.hart.slots)
        return finishHostCall(result, thread: thread)
    }

    /// Calls `function` for the `ecall` at the thread's pc, as the innermost host function.
    @inline(__always)
    private func run(
        _ function: Unmanaged<HostFunctionBox>, _ state: UnsafeMutablePointer<HostCallState>,
        thread: Unmanaged<GuestThread>, runner: Unmanaged<HartRunner>, _ slots: UnsafeMutablePointer<UInt64>
    ) -> HostCallResult {
        let outerThread = state.pointee.handlerThread
        let outerRunner = state.pointee.handlerRunner
        state.pointee.handlerThread = thread
        state.pointee.handlerRunner = runner
        state.pointee.running += 1
        let call = HostCall(machine: self, slots: slots, number: Int(truncatingIfNeeded: slots[HartState.Slot.x + 17]))
        let result = function._withUnsafeGuaranteedRef { $0.function(call) }
        state.pointee.running -= 1
        state.pointee.handlerThread = outerThread
        state.pointee.handlerRunner = outerRunner
        if state.pointee.running == 0, state.pointee.hasRetiredTables { releaseRetiredHostFunctionTables() }
        return result
    }

    /// Gives the guest a host function's result (holding the process's lock).
    /// - Returns: how the thread's loop ends, if it does.
    func finishHostCall(_ result: HostCallResult, thread: GuestThread) -> LoopEnd? {
        let hart = thread.hart
        // A guest function it called may have ended the process or the thread.
        if process.isEnding || thread.isTerminated { return .threadEnded }
        switch result {
        case .value(let value): hart[x: 10] = value
        case .failure(let errno): hart[x: 10] = UInt64(bitPattern: -Int64(errno))
        case .pause(let value):
            hart[x: 10] = value
            suspend(.paused)
        case .exit(let status): return .processEnds(.exited(status))
        }
        hart.pc += 4
        return nil
    }
}
