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
    unowned(unsafe) let hart: HartState
    /// The syscall number (a7).
    public let number: Int

    /// Argument `n` (0...5: a0...a5).
    public func argument(_ n: Int) -> UInt64 {
        precondition((0...5).contains(n), "syscall arguments are a0...a5 (0...5), not \(n)")
        return hart[x: 10 + n]
    }

    /// The calling thread's integer register `n` (0...31); writes to x0 are ignored. a0 is
    /// overwritten by the call's result.
    public subscript(x n: Int) -> UInt64 {
        get {
            precondition((0...31).contains(n), "x\(n) is not a RISC-V integer register")
            return hart[x: n]
        }
        nonmutating set {
            precondition((0...31).contains(n), "x\(n) is not a RISC-V integer register")
            hart[x: n] = newValue
        }
    }

    /// The calling thread's floating-point register `n` (0...31), as raw bits.
    public subscript(f n: Int) -> UInt64 {
        get {
            precondition((0...31).contains(n), "f\(n) is not a RISC-V floating-point register")
            return hart[f: n]
        }
        nonmutating set {
            precondition((0...31).contains(n), "f\(n) is not a RISC-V floating-point register")
            hart[f: n] = newValue
        }
    }

    /// The address of the `ecall`.
    public var pc: UInt64 { hart.pc }

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

extension VirtualMachine {
    /// Makes `ecall` with syscall number `number` (a7) call `function` instead of the Linux
    /// syscall of that number (riscv64 Linux uses numbers below 500: pick your own above, e.g.
    /// from 0x10000, or take over one of Linux's, such as `write`, to intercept it).
    public func register(syscall number: Int, _ function: @escaping HostFunction) {
        hostFunctions[number] = function
        installHostCallHook()
    }

    /// Gives syscall `number` back to Linux (or to nothing: ENOSYS).
    public func unregister(syscall number: Int) {
        hostFunctions[number] = nil
        installHostCallHook()
    }

    /// Gives the engine the host functions to call in place (`callHostFunctionInPlace`), as an
    /// immutable table the hook holds.
    private func installHostCallHook() {
        guard !hostFunctions.isEmpty else {
            engine.main.ecallHook = nil
            return
        }
        // What a call in place needs, held by the hook without reference counting (the hook
        // belongs to the runner, which the machine owns with the thread).
        let functions = hostFunctions
        let runner = engine.main
        guard let thread = mainThread, thread.hart === runner.hart else {
            runner.ecallHook = nil
            return
        }
        runner.ecallHook = { [unowned(unsafe) self, unowned(unsafe) thread, unowned(unsafe) runner] hart in
            guard let function = functions[Int(truncatingIfNeeded: hart[x: 17])] else { return false }
            return self.callHostFunctionInPlace(function, thread, runner)
        }
    }

    /// A host function called where the engine stopped for its `ecall` (the first thread, alone,
    /// in the middle of a run), as the run loop would call it — holding the process's lock —
    /// but without leaving the run: the round trip costs a lock, not a return through the loop.
    /// - Returns: whether the guest goes on; if not (a pause, an exit) the run returns `.ecall`
    ///   and the loop finds the outcome in `hostCallStopped`.
    func callHostFunctionInPlace(_ function: HostFunction, _ thread: GuestThread, _ runner: HartRunner) -> Bool {
        guard debugger == nil, !thread.isTerminated else { return false }
        process.acquire(thread)
        inPlaceHostCalls += 1
        let end = callHostFunction(function, thread: thread, runner: runner)
        inPlaceHostCalls -= 1
        let goesOn = end == nil && suspension == nil && !process.isEnding
        // A pause, or the process ending: the loop's next turn sees the suspension or the end.
        if !goesOn { hostCallStopped = end ?? .suspended(.paused) }
        process.lock.release()
        return goesOn
    }

    /// Runs a host function for the `ecall` the thread stopped at (holding the process's lock).
    /// - Returns: how the thread's loop ends, if it does.
    func callHostFunction(_ function: HostFunction, thread: GuestThread, runner: HartRunner) -> LoopEnd? {
        let hart = thread.hart
        let outerThread = handlerThread
        let outerRunner = handlerRunner
        handlerThread = thread
        handlerRunner = runner
        let result = function(HostCall(machine: self, hart: hart, number: Int(truncatingIfNeeded: hart[x: 17])))
        handlerThread = outerThread
        handlerRunner = outerRunner
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
