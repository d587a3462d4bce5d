import Rivet

/// Host functions, and a guest that waits for requests: the host calls its functions while it
/// is paused, then lets it finish.
///
/// The guest (`embed_calls`) says "ready" through host function 0x10000, then waits in host
/// function 0x10002, which pauses it: that is where a per-request sandbox would serve requests.
func hostFunctionsDemo() throws {
    print("== host functions and guest calls")
    let output = OutputBuffer()
    var configuration = Configuration()
    configuration.standardOutput = .buffer(output)
    configuration.limits.instructions = 1_000_000_000
    let vm = try VirtualMachine(programPath: Guests.embedCalls, configuration: configuration)

    // 0x10000 log(text, length): the host reads the guest's memory.
    var logged: [String] = []
    vm.register(syscall: 0x10000) { call in
        guard let bytes = try? call.readMemory(at: call.argument(0), count: Int(call.argument(1))) else {
            return .failure(errno: 14)  // EFAULT
        }
        logged.append(String(decoding: bytes, as: UTF8.self))
        return .value(UInt64(bytes.count))
    }
    // 0x10001 add(a, b): a plain function of its arguments.
    vm.register(syscall: 0x10001) { call in .value(call.argument(0) &+ call.argument(1)) }
    // 0x10002 wait(): the guest waits for the host; the run stops resumably, and the guest
    // gets 7 when it goes on.
    vm.register(syscall: 0x10002) { _ in .pause(returning: 7) }

    let first = vm.run()
    Checks.expect(first, .paused, "the guest waits in 0x10002")
    Checks.expect(logged, ["ready"], "what the guest logged")
    Checks.expect(output.text, "host read 5 bytes\n", "the guest's output so far")
    print("  paused after \(vm.statistics.instructions) instructions; the guest logged \(logged)")

    // A guest paused in its request loop is the state to keep: a snapshot of it starts each
    // request's machine (copy-on-write, without loading the program or running its start-up
    // again). The copy stands where the original paused; the host functions are per machine.
    let snapshot = try vm.snapshot()
    let copyOutput = OutputBuffer()
    var copyConfiguration = configuration
    copyConfiguration.standardOutput = .buffer(copyOutput)
    let copy = try VirtualMachine(snapshot: snapshot, configuration: copyConfiguration)
    copy.register(syscall: 0x10001) { call in .value(call.argument(0) &+ call.argument(1)) }
    Checks.expect(try copy.call("bump", arguments: [100]), 100, "bump(100) in the copy")
    copy[x: 10] = 9  // the copy's answer to its wait (a0)
    Checks.expect(copy.run(), .exited(9), "the copy's exit")
    Checks.expect(copyOutput.text, "resumed with 9, counter 100\n", "the copy's output")
    print("  a copy from a snapshot (\(snapshot.storedBytes >> 10) KiB held) served a request and exited; the original is untouched")

    // While it is paused, the host calls the guest's functions (integer and pointer
    // arguments in a0...a7, the result from a0).
    let sum = try vm.call("add", arguments: [2, 3])
    let fib = try vm.call("fib", arguments: [25])
    Checks.expect(sum, 5, "add(2, 3)")
    Checks.expect(fib, 75025, "fib(25)")
    print("  add(2, 3) = \(sum), fib(25) = \(fib)")

    // Memory is shared: the host writes an array into the guest's `scratch`, the guest sums it.
    let scratch = try require(vm.address(ofSymbol: "scratch"), "the guest's symbol scratch")
    let values: [Int64] = [10, -3, 400, 7]
    try vm.writeMemory(values.flatMap(\.littleEndianBytes), at: scratch)
    let total = Int64(bitPattern: try vm.call("sum", arguments: [scratch, UInt64(values.count)]))
    Checks.expect(total, values.reduce(0, +), "sum over scratch")
    print("  sum(\(values)) = \(total)")

    // Guest state lasts from call to call (and into the resumed run).
    _ = try vm.call("bump", arguments: [5])
    let counter = try vm.call("bump", arguments: [6])
    Checks.expect(counter, 11, "counter after bump(5), bump(6)")

    // A guest function that calls the host: greet(name) formats a line and logs it.
    try vm.writeMemory(Array("sandbox\0".utf8), at: scratch + 1024)
    _ = try vm.call("greet", arguments: [scratch + 1024])
    Checks.expect(logged.last, "hello, sandbox", "what greet logged")
    // Round trips through a host function from a guest loop: host_calls(n) adds 1 to 0..<n.
    let clock = ContinuousClock()
    let started = clock.now
    let roundTrips = try vm.call("host_calls", arguments: [10_000])
    let perCall = Int((clock.now - started).seconds * 1e9 / 10_000)
    Checks.expect(roundTrips, 10_000 + (0..<10_000).reduce(0, +), "host_calls(10000)")
    print("  greet logged \"\(logged.last ?? "")\"; 10,000 host calls at \(perCall) ns each")

    // A call that runs away is cut off by its own bound; the guest is as it was.
    do {
        _ = try vm.call("fib", arguments: [90], instructions: 1_000_000)
        Checks.expect(false, "fib(90) returned within a million instructions")
    } catch {
        Checks.expect(error.code, .callInterrupted, "a call past its bound")
    }

    // The guest goes on after its wait, with 7, and exits with it.
    let end = vm.run()
    Checks.expect(end, .exited(7), "the resumed guest's exit")
    Checks.expect(output.text, "host read 5 bytes\nresumed with 7, counter 11\n", "the guest's whole output")
    print("  resumed: \(end); it printed \(output.text.split(separator: "\n").map(String.init))")
}

extension Int64 {
    /// The value's 8 bytes as a RISC-V guest stores them (little-endian).
    var littleEndianBytes: [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: self >> ($0 * 8)) } }
}

/// The value, or a thrown error naming `what`.
func require<Value>(_ value: Value?, _ what: String) throws -> Value {
    guard let value else { throw DemoError(message: "\(what) is missing") }
    return value
}

/// A demo that cannot go on.
struct DemoError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
