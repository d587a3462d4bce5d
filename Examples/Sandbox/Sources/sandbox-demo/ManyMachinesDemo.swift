import Rivet

/// Many short-lived machines, one per request, from a task group: each loads the program, runs
/// it with its own input, limits and output, and is dropped.
func manyMachinesDemo(count: Int = 100, inFlight: Int = 8) async throws {
    print("== \(count) short-lived machines from a task group")

    /// One request: runs `hello` with `argument` and returns what it printed and its exit.
    @Sendable func serve(_ argument: Int) async throws -> (String, ExitReason) {
        let output = OutputBuffer()
        var configuration = Configuration()
        configuration.programName = "hello"
        configuration.arguments = ["\(argument)"]
        configuration.standardOutput = .buffer(output)
        // Small limits suit small requests: 64 MiB, 10 million instructions, one second.
        configuration.limits = Limits(instructions: 10_000_000, memoryBytes: 64 << 20, wallTime: .seconds(1))
        // A program this short ends before anything would be compiled.
        configuration.tier = .interpreter
        let vm = try VirtualMachine(programPath: Guests.hello, configuration: configuration)
        // runAsync: the guest runs on a host thread of its own, not on one of the task pool's.
        let reason = await vm.runAsync()
        return (output.text, reason)
    }

    let clock = ContinuousClock()
    let started = clock.now
    let served = try await withThrowingTaskGroup(of: (Int, String, ExitReason).self) { group in
        var next = 0
        var served = 0
        // At most `inFlight` machines at a time: a new one starts as one ends.
        while next < min(inFlight, count) {
            let n = next
            group.addTask { let (text, reason) = try await serve(n); return (n, text, reason) }
            next += 1
        }
        while let (n, text, reason) = try await group.next() {
            Checks.expect(reason, .exited(Int32(n & 0xff)), "request \(n)'s exit")
            Checks.expect(text.contains("argument 1: \(n)\n"), "request \(n)'s output")
            served += 1
            if next < count {
                let n = next
                group.addTask { let (text, reason) = try await serve(n); return (n, text, reason) }
                next += 1
            }
        }
        return served
    }
    let elapsed = clock.now - started
    Checks.expect(served, count, "requests served")
    print("  \(served) machines in \(elapsed): \(Int(Double(served) / elapsed.seconds)) VMs/second, \(inFlight) at a time")
}
