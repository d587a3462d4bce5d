import Testing

@testable import Rivet

/// Host functions and guest calls (`HostFunctions.swift`, `VirtualMachine+Calls.swift`), in
/// every tier, with the guest `embed_calls`.
@Suite struct EmbeddingTests {
    static let program = Fixture.directory + "/bin/embed_calls"
    static let log = 0x10000
    static let add = 0x10001
    static let wait = 0x10002

    /// A machine running `embed_calls`, its output in `output`; its host functions log into
    /// `said` and pause at HOST_WAIT.
    func machine(_ tier: ExecutionTier, output: OutputBuffer, said: Box<[String]>) throws -> VirtualMachine {
        var configuration = Configuration()
        configuration.standardOutput = .buffer(output)
        configuration.tier = tier
        configuration.limits.instructions = 5_000_000_000
        let vm = try VirtualMachine(programPath: Self.program, configuration: configuration)
        vm.register(syscall: Self.log) { call in
            guard let text = try? call.readMemory(at: call.argument(0), count: Int(call.argument(1))) else {
                return .failure(errno: 14)
            }
            said.value.append(String(decoding: text, as: UTF8.self))
            return .value(UInt64(text.count))
        }
        vm.register(syscall: Self.add) { call in .value(call.argument(0) &+ call.argument(1)) }
        vm.register(syscall: Self.wait) { _ in .pause(returning: 42) }
        return vm
    }

    /// A machine whose guest left a fast periodic timer armed goes away at once, again and
    /// again: the timer thread must not post its expiry to the machine once it is gone (it read
    /// freed memory, a host crash the fuzzer found).
    @Test func aMachineGoesWhileItsGuestsTimerFires() throws {
        for _ in 0..<40 {
            let out = OutputBuffer()
            var configuration = Configuration()
            configuration.standardOutput = .buffer(out)
            let vm = try VirtualMachine(programPath: Fixture.directory + "/bin/sys_timer_teardown", configuration: configuration)
            #expect(vm.run() == .exited(0))
            #expect(out.text == "armed, 44999850000\n")
        }
    }

    @Test(arguments: ExecutionTier.allCases)
    func aGuestCallsTheHostWaitsAndIsCalled(_ tier: ExecutionTier) throws {
        let out = OutputBuffer()
        let said = Box<[String]>([])
        let vm = try machine(tier, output: out, said: said)
        #expect(vm.run() == .paused)
        #expect(said.value == ["ready"])
        #expect(out.text == "host read 5 bytes\n")
        // Paused in its request loop: the host calls its functions.
        #expect(try vm.call("add", arguments: [2, 3]) == 5)
        #expect(try vm.call("add", arguments: [UInt64(bitPattern: -7), 3]) == UInt64(bitPattern: -4))
        #expect(try vm.call("fib", arguments: [20]) == 6765)
        #expect(try vm.call("eight", arguments: [1, 2, 3, 4, 5, 6, 7, 8]) == 204)
        #expect(try vm.call("bump", arguments: [5]) == 5)
        #expect(try vm.call("bump", arguments: [6]) == 11)
        // Memory the host writes is the guest's: an array summed by the guest.
        let scratch = try #require(vm.address(ofSymbol: "scratch"))
        let values: [Int64] = [10, -3, 400, 7]
        try vm.writeMemory(values.flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: v >> ($0 * 8)) } }, at: scratch)
        #expect(try vm.call("sum", arguments: [scratch, 4]) == 414)
        // A call that calls the host, which calls the guest again, re-entrantly.
        var nested: UInt64 = 0
        vm.register(syscall: Self.log) { call in
            let text = (try? call.readString(at: call.argument(0))) ?? "?"
            said.value.append(text)
            nested = (try? call.machine.call("add", arguments: [40, 2])) ?? 0
            return .value(UInt64(text.utf8.count))
        }
        try vm.writeMemory(Array("rivet\0".utf8), at: scratch + 1024)
        #expect(try vm.call("greet", arguments: [scratch + 1024]) == 12)
        #expect(nested == 42)
        #expect(said.value.last == "hello, rivet")
        // 10,000 round trips through a host function.
        #expect(try vm.call("host_calls", arguments: [10_000]) == 10_000 + 49_995_000)
        // The call left the guest where it was: it resumes in its request loop with 42.
        #expect(vm.run() == .exited(42))
        #expect(out.text == "host read 5 bytes\nresumed with 42, counter 11\n")
        #expect(throws: RivetError.self) { try vm.call("add", arguments: [1, 2]) }
    }

    @Test(arguments: ExecutionTier.allCases)
    func callsAreBoundedAndFailCleanly(_ tier: ExecutionTier) throws {
        let out = OutputBuffer()
        let vm = try machine(tier, output: out, said: Box([]))
        #expect(vm.run() == .paused)
        let before = (vm.pc, vm[x: 2], vm[x: 10])
        // An endless function stops at the call's bound, and the guest is as before.
        do {
            try vm.call("spin", arguments: [1], instructions: 2_000_000)
            Issue.record("spin returned")
        } catch { #expect(error.code == .callInterrupted) }
        do {
            try vm.call("spin", arguments: [1], wallTime: .milliseconds(50))
            Issue.record("spin returned")
        } catch { #expect(error.code == .callInterrupted) }
        #expect(vm.pc == before.0 && vm[x: 2] == before.1 && vm[x: 10] == before.2)
        #expect(try vm.call("add", arguments: [1, 2]) == 3)
        do {
            try vm.call("nonexistent")
            Issue.record("called a missing symbol")
        } catch { #expect(error.code == .noSuchSymbol) }
        do {
            try vm.call("add", arguments: Array(repeating: 1, count: 9))
            Issue.record("nine arguments")
        } catch { #expect(error.code == .invalidCall) }
        // A function that faults kills the guest, which is then over.
        do {
            try vm.call("crash", arguments: [8])
            Issue.record("crash returned")
        } catch { #expect(error.code == .guestEnded) }
        guard case .signaled(11, _) = vm.run() else {
            Issue.record("not killed by SIGSEGV")
            return
        }
        #expect(throws: RivetError.self) { try vm.call("add", arguments: [1, 2]) }
    }

    @Test(arguments: ExecutionTier.allCases)
    func aCallThatExitsEndsTheGuest(_ tier: ExecutionTier) throws {
        let out = OutputBuffer()
        let vm = try machine(tier, output: out, said: Box([]))
        #expect(vm.run() == .paused)
        do {
            try vm.call("finish", arguments: [9])
            Issue.record("finish returned")
        } catch { #expect(error.code == .guestEnded) }
        #expect(vm.run() == .exited(9))
    }

    /// A host function that calls the guest function that calls it: the guest cannot recurse
    /// through the host without bound (the host's stack is finite).
    @Test(arguments: ExecutionTier.allCases)
    func recursionThroughTheHostIsBounded(_ tier: ExecutionTier) throws {
        let out = OutputBuffer()
        let vm = try machine(tier, output: out, said: Box([]))
        #expect(vm.run() == .paused)
        let scratch = try #require(vm.address(ofSymbol: "scratch"))
        let depth = Box(0)
        let refusals = Box(0)
        vm.register(syscall: Self.log) { call in
            depth.value += 1
            do {
                _ = try call.machine.call("greet", arguments: [scratch + 2048])
            } catch let error as RivetError {
                #expect(error.code == .invalidCall)
                refusals.value += 1
            } catch {
                Issue.record("unexpected \(error)")
            }
            return .value(0)
        }
        try vm.writeMemory(Array("again\0".utf8), at: scratch + 2048)
        #expect(try vm.call("greet", arguments: [scratch + 2048]) == 0)
        #expect(depth.value == VirtualMachine.maximumCallDepth)
        #expect(refusals.value == 1)
        #expect(vm.run() == .exited(42))
    }

    /// Host functions called from JIT code at their `ecall` (the baseline and `auto` tiers)
    /// while the code that called waits on the stack: each one calls back into the guest, in a
    /// code cache so small that the calling block is evicted meanwhile, and every hundredth
    /// replaces the table of functions it runs from. The guest must go on exactly.
    @Test(arguments: ExecutionTier.allCases)
    func hostFunctionsFromJITCodeSurviveEvictionAndNewFunctions(_ tier: ExecutionTier) throws {
        var configuration = Configuration()
        configuration.standardOutput = .discarded
        configuration.tier = tier
        configuration.codeCacheBytes = 16 << 10
        configuration.cachePolicy = .flush  // the calling block goes too
        configuration.tierUpThreshold = 2
        let vm = try VirtualMachine(programPath: Self.program, configuration: configuration)
        vm.register(syscall: Self.log) { _ in .value(5) }
        vm.register(syscall: Self.wait) { _ in .pause(returning: 42) }
        #expect(vm.run() == .paused)
        let name = try #require(vm.address(ofSymbol: "scratch")) + 2048
        try vm.writeMemory(Array("eviction\0".utf8), at: name)
        let calls = Box(0)
        let wrong = Box(0)
        vm.register(syscall: Self.add) { call in
            calls.value += 1
            let a = call.argument(0)
            let b = call.argument(1)
            // greet (snprintf) compiles, and in this cache evicts, a few hundred blocks.
            if (try? call.machine.call("greet", arguments: [name])) != 5 { wrong.value += 1 }
            if calls.value % 100 == 0 {
                call.machine.register(syscall: 0x10100 + calls.value) { _ in .value(0) }
            }
            return .value(a &+ b)
        }
        let n: UInt64 = 1_000
        #expect(try vm.call("host_calls", arguments: [n]) == n + n * (n - 1) / 2)
        #expect(calls.value == Int(n))
        #expect(wrong.value == 0)
        if tier != .interpreter { #expect(vm.statistics.evictions > 0) }
        // A pause from JIT code: the guest resumes after the ecall, once.
        #expect(vm.run() == .exited(42))
    }

    @Test func hostFunctionsFailStopAndEnd() throws {
        let out = OutputBuffer()
        var configuration = Configuration()
        configuration.standardOutput = .buffer(out)
        // Before any run, with no C library set up: a function that needs none.
        let vm = try VirtualMachine(programPath: Self.program, configuration: configuration)
        #expect(try vm.call("add", arguments: [20, 22]) == 42)
        #expect(try vm.call("host_calls", arguments: [3]) == UInt64(bitPattern: -38 * 3))  // ENOSYS: none registered
        vm.register(syscall: Self.add) { _ in .failure(errno: 22) }
        #expect(try vm.call("host_calls", arguments: [2]) == UInt64(bitPattern: -22 * 2))
        vm.register(syscall: Self.log) { _ in .exit(3) }
        #expect(vm.run() == .exited(3))
        #expect(out.text == "")
    }

    @Test func overridingALinuxSyscallInterceptsIt() throws {
        let out = OutputBuffer()
        var configuration = Configuration()
        configuration.standardOutput = .buffer(out)
        let vm = try VirtualMachine(programPath: Fixture.directory + "/bin/hello_static", configuration: configuration)
        let written = Box<[UInt8]>([])
        vm.register(syscall: 64) { call in  // write
            guard let bytes = try? call.readMemory(at: call.argument(1), count: Int(call.argument(2))) else {
                return .failure(errno: 14)
            }
            written.value += bytes
            return .value(UInt64(bytes.count))
        }
        #expect(vm.run() == .exited(5))
        #expect(out.text == "")
        #expect(String(decoding: written.value, as: UTF8.self) == "strlen = 99999\n")
    }

    /// With the adaptive threshold at its floor, `auto` compiles a block the first time it
    /// meets it instead of decoding and interpreting it once first (warm code, as `flat`'s);
    /// with a fixed threshold of 1 the interpreter still runs each block once. Both print the
    /// same.
    @Test func autoAtTheThresholdsFloorCompilesBlocksAtFirstSight() throws {
        func run(adaptive: Bool) throws -> (text: String, interpreted: UInt64, compiled: UInt64) {
            let out = OutputBuffer()
            var configuration = Configuration()
            configuration.standardOutput = .buffer(out)
            configuration.tier = .auto
            configuration.tierUpThreshold = 1
            configuration.adaptsThresholds = adaptive
            let vm = try VirtualMachine(programPath: Fixture.directory + "/bin/hello_static", configuration: configuration)
            #expect(vm.run() == .exited(5))
            let tiers = vm.statistics.tiers
            return (out.text, tiers.first { $0.name == "interp" }?.blocks ?? 0,
                    tiers.first { $0.name == "baseline" }?.compiles ?? 0)
        }
        let adaptive = try run(adaptive: true), fixed = try run(adaptive: false)
        #expect(adaptive.text == fixed.text && adaptive.text == "strlen = 99999\n")
        #expect(fixed.compiled > 50 && fixed.interpreted >= fixed.compiled, "\(fixed)")
        #expect(adaptive.compiled > 50 && adaptive.interpreted * 10 < adaptive.compiled, "\(adaptive)")
    }
}

/// A value a test's closures share.
final class Box<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
