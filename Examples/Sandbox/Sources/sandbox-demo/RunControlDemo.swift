import Rivet

/// The output of `Examples/hello` run as `hello` with no arguments.
let helloOutput = """
    Hello from RISC-V! I am hello.
    fib(90) = 2880067194370816120, sqrt(2) ~ 1.414214

    """

/// Fuel: the guest runs in slices of 2,000 instructions; after each the host decides whether
/// it may go on (here: always), and it ends as it would in one run.
func fuelDemo() throws {
    print("== fuel: a guest run in slices")
    let output = OutputBuffer()
    var configuration = Configuration()
    configuration.programName = "hello"
    configuration.standardOutput = .buffer(output)
    configuration.limits.instructions = 2_000
    let vm = try VirtualMachine(programPath: Guests.hello, configuration: configuration)
    var slices = 1
    var reason = vm.run()
    while reason == .instructionLimitReached {
        // The guest stands where it stopped; more fuel lets it go on.
        vm.addFuel(2_000)
        reason = vm.run()
        slices += 1
    }
    Checks.expect(reason, .exited(0), "hello's exit")
    Checks.expect(output.text, helloOutput, "hello's output")
    Checks.expect(slices > 2, "hello ran in several slices")
    print("  \(vm.statistics.instructions) instructions in \(slices) slices, then \(reason)")
}

/// A pause from another thread: `RunControl` is the `Sendable` handle to a machine's runs.
func pauseDemo() throws {
    print("== pause from another thread")
    let output = OutputBuffer()
    var configuration = Configuration()
    configuration.standardOutput = .buffer(output)
    let vm = try VirtualMachine(programPath: Guests.loop, configuration: configuration)
    let control = vm.control
    Task.detached {
        try? await Task.sleep(for: .milliseconds(50))
        control.pause()
    }
    let paused = vm.run()  // blocks this thread until the pause
    let before = vm.statistics.instructions
    Checks.expect(paused, .paused, "the loop's first run")
    Checks.expect(before > 0 && before < 1_400_000_000, "the loop stopped midway")
    print("  paused after \(before) instructions; resuming")
    let end = vm.run()  // goes on where it stopped
    Checks.expect(end, .exited(0), "the loop's exit")
    Checks.expect(output.text, "4831187309331759361 1281237028354292832\n", "the loop's result")
    print("  \(end) after \(vm.statistics.instructions) instructions, in \(vm.statistics.wallTime)")
}

/// `runAsync` runs the guest on a host thread of its own; cancelling the task that awaits it
/// ends the guest.
func cancellationDemo() async throws {
    print("== cancelling a runAsync task")
    var configuration = Configuration()
    configuration.standardOutput = .discarded
    let vm = try VirtualMachine(programPath: Guests.loop, configuration: configuration)
    let clock = ContinuousClock()
    let started = clock.now
    let task = Task { await vm.runAsync() }
    try await Task.sleep(for: .milliseconds(50))
    task.cancel()
    let reason = await task.value
    let elapsed = clock.now - started
    Checks.expect(reason, .cancelled, "the cancelled task's guest")
    print("  \(reason) after \(elapsed)")
}
