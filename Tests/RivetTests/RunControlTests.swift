#if canImport(Glibc)
import Glibc
#endif
import Testing

@testable import Rivet

/// Resumable runs (`VirtualMachine+Control.swift`): fuel, time slices, pause and cancel from
/// other threads and tasks; a resumed guest ends exactly as one run straight through.
@Suite struct RunControlTests {
    static let loop = repositoryRoot + "/Examples/loop"

    func machine(_ path: String, _ tier: ExecutionTier, output: TemporaryFile, configure: (inout Configuration) -> Void = { _ in })
        throws -> VirtualMachine
    {
        var configuration = Configuration()
        configuration.standardOutput = .fileDescriptor(output.fd)
        configuration.tier = tier
        configure(&configuration)
        return try VirtualMachine(programPath: path, configuration: configuration)
    }

    @Test(arguments: ExecutionTier.allCases, ["hello_static", "threads_amo_stress", "threads_sync"])
    func aGuestRunInSlicesOfFuelEndsAsInOneRun(_ tier: ExecutionTier, _ name: String) throws {
        let fixture = try #require(Fixture.all.first { $0.name == name })
        let out = try TemporaryFile()
        let vm = try machine(fixture.binary, tier, output: out) {
            $0.arguments = fixture.arguments
            $0.limits.instructions = 40_000
        }
        var slices = 1
        var reason = vm.run()
        while reason == .instructionLimitReached {
            #expect(vm.fuel == 0)
            vm.addFuel(40_000)
            reason = vm.run()
            slices += 1
        }
        #expect(reason == .exited(fixture.expectedStatus))
        #expect(out.contents() == fixture.expectedOutput)
        #expect(slices > 3)
    }

    @Test(arguments: [ExecutionTier.interpreter, .auto])
    func aGuestRunInTimeSlicesEndsAsInOneRun(_ tier: ExecutionTier) throws {
        let out = try TemporaryFile()
        let vm = try machine(Self.loop, tier, output: out) { $0.limits.wallTime = .milliseconds(30) }
        var slices = 1
        var reason = vm.run()
        while reason == .timeLimitReached {
            reason = vm.run()
            slices += 1
        }
        #expect(reason == .exited(0))
        #expect(out.contents() == "4831187309331759361 1281237028354292832\n")
        #expect(slices > 2)
    }

    @Test func pauseFromAnotherThreadThenResumeThenCancel() throws {
        let out = try TemporaryFile()
        let vm = try machine(Self.loop, .auto, output: out)
        let control = vm.control
        let pauser = Thread { usleep(50_000); control.pause() }
        pauser.start()
        #expect(vm.run() == .paused)
        pauser.join()
        let before = vm.statistics.instructions
        #expect(before > 0 && before < 1_400_000_000)
        let canceller = Thread { usleep(30_000); control.cancel() }
        canceller.start()
        #expect(vm.run() == .cancelled)
        canceller.join()
        #expect(vm.statistics.instructions > before)
        #expect(vm.run() == .cancelled)
        #expect(control.isCancelled)
        #expect(out.contents() == "")
    }

    @Test func aPauseAskedBeforeTheRunStopsItAtOnce() throws {
        let out = try TemporaryFile()
        let vm = try machine(Fixture.directory + "/bin/hello_static", .auto, output: out)
        vm.pause()
        #expect(vm.run() == .paused)
        #expect(vm.statistics.instructions == 0)
        #expect(vm.run() == .exited(5))
    }

    /// A guest blocked in a syscall (a sleep) pauses at once, and sleeps again on resuming.
    @Test func aBlockedSyscallPausesAndRunsAgain() throws {
        let out = try TemporaryFile()
        let vm = try machine(Fixture.directory + "/bin/embed_sleep", .auto, output: out)
        let control = vm.control
        let clock = ContinuousClock()
        let started = clock.now
        let pauser = Thread { usleep(50_000); control.pause() }
        pauser.start()
        #expect(vm.run() == .paused)
        pauser.join()
        #expect(clock.now - started < .milliseconds(250))
        #expect(vm.run() == .exited(0))
        #expect(out.contents() == "slept\n")
    }

    @Test func aThreadedGuestPausesAndResumes() throws {
        let fixture = try #require(Fixture.all.first { $0.name == "threads_amo_stress" })
        let out = try TemporaryFile()
        let vm = try machine(fixture.binary, .auto, output: out)
        let control = vm.control
        var pauses = 0
        var reason = ExitReason.paused
        while reason == .paused {
            let pauser = Thread { usleep(20_000); control.pause() }
            pauser.start()
            reason = vm.run()
            pauser.join()
            if reason == .paused { pauses += 1 }
        }
        #expect(reason == .exited(fixture.expectedStatus))
        #expect(out.contents() == fixture.expectedOutput)
        #expect(pauses > 0)
    }

    @Test func runAsyncEndsWithTheTasksCancellation() async throws {
        let out = try TemporaryFile()
        let vm = try machine(Fixture.directory + "/bin/hello_static", .auto, output: out)
        #expect(await vm.runAsync() == .exited(5))
        let looping = try machine(Self.loop, .auto, output: out)
        // Cancelled at once: before the guest starts or while it runs (under a loaded test run,
        // a task that slept first may resume only after the guest ended).
        let task = Task { await looping.runAsync() }
        task.cancel()
        #expect(await task.value == .cancelled)
    }

    /// A `RunControl` outlives its machine harmlessly.
    @Test func aControlOutlivesItsMachine() throws {
        let out = try TemporaryFile()
        var control: RunControl? = nil
        do {
            let vm = try machine(Fixture.directory + "/bin/hello_static", .auto, output: out)
            control = vm.control
            #expect(vm.run() == .exited(5))
        }
        for _ in 0..<100 {
            _ = try machine(Fixture.directory + "/bin/hello_static", .auto, output: out)  // reuse the memory
            control?.pause()
            control?.cancel()
        }
        #expect(control?.isCancelled == true)
    }

    /// A machine dropped while its threads are parked ends them.
    @Test func droppingASuspendedThreadedGuestEndsItsThreads() throws {
        let fixture = try #require(Fixture.all.first { $0.name == "threads_amo_stress" })
        let out = try TemporaryFile()
        for _ in 0..<3 {
            let vm = try machine(fixture.binary, .auto, output: out) { $0.limits.instructions = 2_000_000 }
            #expect(vm.run() == .instructionLimitReached)
        }
    }
}

/// A host thread running a closure (the tests' other thread).
final class Thread: @unchecked Sendable {
    private let body: () -> Void
    private var handle = pthread_t()

    init(_ body: @escaping () -> Void) { self.body = body }

    func start() {
        let context = Unmanaged.passRetained(self).toOpaque()
        pthread_create(
            &handle, nil,
            { raw in
                let thread = Unmanaged<Thread>.fromOpaque(raw!).takeRetainedValue()
                thread.body()
                return nil
            }, context)
    }

    func join() { pthread_join(handle, nil) }
}
