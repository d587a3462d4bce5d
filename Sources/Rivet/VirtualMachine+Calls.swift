#if canImport(Glibc)
import Glibc
#endif
import CRivetHost
import RivetJIT
import RivetLinux
import RivetMachine

extension VirtualMachine {
    /// Where a guest function `call` entered returns to: past the guest's address space, so no
    /// guest code can be there, and the fetch that fails there says the function returned.
    static let returnAddress: UInt64 = GuestMemory.addressSpaceSize

    /// Guest calls nested in one another (a host function calling the guest, which calls a host
    /// function that calls the guest ...): each takes host stack, and a guest must not be able
    /// to exhaust it.
    public static let maximumCallDepth = 16

    /// Calls the guest function named `symbol` (from the program's ELF symbols) with integer
    /// or pointer `arguments` in a0...a7, as the RISC-V calling convention passes them, and
    /// returns its a0. See `call(address:arguments:instructions:wallTime:)`.
    /// - Throws: `RivetError` (`.noSuchSymbol`) if the program has no such symbol, or as the
    ///   other form does.
    @discardableResult
    public func call(
        _ symbol: String, arguments: [UInt64] = [], instructions: UInt64? = nil, wallTime: Duration? = nil
    ) throws(RivetError) -> UInt64 {
        guard let address = address(ofSymbol: symbol) else {
            throw RivetError(.noSuchSymbol, "the program has no symbol \(symbol)")
        }
        return try call(address: address, arguments: arguments, instructions: instructions, wallTime: wallTime)
    }

    /// Calls the guest function at `address` with up to eight integer or pointer `arguments`
    /// (a0...a7) and returns what it leaves in a0 — libriscv's `vmcall`. The function runs on
    /// the guest's first thread, below its stack pointer, with a return address no guest code
    /// has; the thread's registers and pc are as before once it returns (its memory keeps what
    /// the function did). From a host function it runs on the calling guest thread, re-entrantly.
    ///
    /// Call between runs: before the first (the C library is not set up yet then: call only
    /// functions that need none), or after a resumable stop, typically a host function's
    /// `.pause` where the guest waits for requests. Other guest threads stay parked meanwhile.
    ///
    /// - Parameters:
    ///   - address: the guest address of the function's first instruction.
    ///   - arguments: at most eight integer or pointer arguments, for a0...a7.
    ///   - instructions: the most the call may execute (besides the guest's `fuel`).
    ///   - wallTime: the most time the call may take.
    /// - Throws: `RivetError`: `.invalidCall` for more than eight arguments or a guest that is
    ///   over; `.callInterrupted` if the call reached a limit or a pause (the guest is as before
    ///   the call); `.guestEnded` if the guest exited or was killed inside it (the guest is over).
    @discardableResult
    public func call(
        address: UInt64, arguments: [UInt64] = [], instructions: UInt64? = nil, wallTime: Duration? = nil
    ) throws(RivetError) -> UInt64 {
        guard arguments.count <= 8 else {
            throw RivetError(.invalidCall, "a guest call takes at most 8 arguments (a0...a7), not \(arguments.count)")
        }
        if let finished { throw RivetError(.invalidCall, "the guest is over (\(finished)): it cannot be called") }
        guard callingThreads.count < Self.maximumCallDepth else {
            throw RivetError(.invalidCall, "guest calls nested \(Self.maximumCallDepth) deep: no deeper")
        }
        let nested = handlerThread.flatMap { thread in handlerRunner.map { (thread, $0) } }
        hostCalls.pointee.guestCalls &+= 1
        if let (thread, _) = nested, hostCalls.pointee.lock == .notTaken {
            // A host function called from JIT code runs without the process's lock until now.
            process.acquire(thread)
            hostCalls.pointee.lock = .taken
        }
        guard let thread = nested?.0 ?? mainThread, !thread.isTerminated else {
            throw RivetError(.invalidCall, "the guest's first thread has exited: no thread to call on")
        }
        let runner = nested?.1 ?? engine.main
        let hart = thread.hart
        let saved = SavedRegisters(hart)
        defer { saved.restore(hart) }
        for (n, value) in arguments.enumerated() { hart[x: 10 + n] = value }
        hart[x: 1] = Self.returnAddress
        hart[x: 2] &= ~15
        hart.pc = address & ~1
        callingThreads.append(ObjectIdentifier(thread))
        defer { callingThreads.removeLast() }
        let savedFuel = fuelEnd
        if let instructions {
            let end = instructionsRetired.load(ordering: .relaxed) &+ instructions
            fuelEnd = min(fuelEnd ?? .max, end)
        }
        // The guest's own fuel goes on being used; the call's own bound does not outlive it.
        defer { if instructions != nil { fuelEnd = savedFuel } }

        let end: LoopEnd
        if nested != nil {
            end = nestedCall(thread, runner: runner, wallTime: wallTime)
        } else {
            var outcome = LoopEnd.threadEnded
            _ = drive(wallTime: wallTime ?? configuration.limits.wallTime) { clock in
                outcome = outermostCall(thread, clock: clock)
                switch outcome {
                case .processEnds(let reason): return reason
                case .threadEnded: return ending ?? .exited(0)
                case .suspended, .returned: return .paused
                }
            }
            end = outcome
        }
        switch end {
        case .returned:
            return hart[x: 10]
        case .suspended(let reason):
            throw RivetError(.callInterrupted, "the guest call of 0x\(String(address, radix: 16)) stopped: \(reason)")
        case .processEnds(let reason):
            throw RivetError(.guestEnded, "the guest ended in the call of 0x\(String(address, radix: 16)): \(reason)")
        case .threadEnded:
            let reason = finished ?? ending ?? .exited(0)
            throw RivetError(.guestEnded, "the guest ended in the call of 0x\(String(address, radix: 16)): \(reason)")
        }
    }

    /// A call from no host function: the thread runs on the calling host thread, the other
    /// threads stay parked (or, for threads the function starts, are parked when it returns).
    private func outermostCall(_ thread: GuestThread, clock: ContinuousClock) -> LoopEnd {
        thread.host = pthread_self()
        process.acquire(thread)
        // Parked threads stay parked: the parking lot does not advance.
        let parked = suspension
        suspension = nil
        rivet_clear_attention(thread.hart.slots, RIVET_ATTENTION_PAUSE | RIVET_ATTENTION_DEADLINE)
        let end = takeControlRequest() ?? threadLoop(thread, runner: engine.main, driving: true, clock: clock, watched: true)
        switch end {
        case .processEnds(let reason):
            self.end(reason)
            process.lock.release()
            joinEndingThreads()
            return end
        case .threadEnded:
            process.lock.release()
            joinEndingThreads()
            return end
        case .returned, .suspended:
            // Whatever else runs now stops until the next run.
            if process.threads.count > 1 { suspend(parked ?? .paused) } else { suspension = parked }
        }
        thread.host = nil
        process.lock.release()
        return end
    }

    /// A call from a host function, on its guest thread (holding the process's lock).
    private func nestedCall(_ thread: GuestThread, runner: HartRunner, wallTime: Duration?) -> LoopEnd {
        let clock = ContinuousClock()
        let outerDeadline = deadline
        let outerWatchdogDeadline = watchdogDeadline
        if let wallTime {
            let limit = clock.now + wallTime
            deadline = min(deadline ?? limit, limit)
            let nanoseconds = Self.monotonicNanoseconds() + Self.nanoseconds(wallTime)
            rivet_watchdog_set_deadline(watchdog, watchdogDeadline == 0 ? nanoseconds : min(watchdogDeadline, nanoseconds))
        }
        defer {
            if wallTime != nil {
                deadline = outerDeadline
                rivet_watchdog_set_deadline(watchdog, outerWatchdogDeadline)
            }
        }
        let before = thread.hart.instret
        let end = threadLoop(thread, runner: runner, driving: true, clock: clock, watched: true)
        // Called by a host function in place, inside the outer run of the same hart: that run
        // counts these instructions again when it returns.
        if hostCalls.pointee.inPlace > 0 { instructionsRetired.subtract(thread.hart.instret &- before, ordering: .relaxed) }
        switch end {
        case .suspended:
            // The call stops; the run around it goes on.
            resumeParkedThreads()
        case .processEnds(let reason):
            self.end(reason)
        case .returned, .threadEnded:
            break
        }
        return end
    }
}

/// A hart's registers, pc and fcsr, to put back after a guest call.
struct SavedRegisters: Sendable {
    var x: [UInt64]
    var f: [UInt64]
    var pc: UInt64
    var fcsr: UInt64

    init(_ hart: HartState) {
        x = (0..<32).map { hart[x: $0] }
        f = (0..<32).map { hart[f: $0] }
        pc = hart.pc
        fcsr = hart.fcsr
    }

    func restore(_ hart: HartState) {
        for n in 1..<32 { hart[x: n] = x[n] }
        for n in 0..<32 { hart[f: n] = f[n] }
        hart.pc = pc
        hart.fcsr = fcsr
    }
}
