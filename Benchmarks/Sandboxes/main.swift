// The embedding API's figures (Documentation/Performance.md, "Sandboxes"): the cost of a host
// function call from guest code, the time to start a machine from a snapshot, the memory of an
// idle copy, and many short-lived sandboxes from Swift tasks.
//
//     swift run -c release rivet-sandbox-bench [--quick]
#if canImport(Glibc)
import Glibc
#endif
import Rivet

let root: String = {
    var parts = #filePath.split(separator: "/").map(String.init)
    parts.removeLast(3)  // Benchmarks/Sandboxes/main.swift
    return "/" + parts.joined(separator: "/")
}()
let program = root + "/Tests/RivetTests/Fixtures/bin/embed_calls"
let quick = CommandLine.arguments.contains("--quick")
/// Only the host-call figures (for profiling them).
let callsOnly = CommandLine.arguments.contains("--calls-only")
let snapshotsOnly = CommandLine.arguments.contains("--snapshots-only")
let sandboxesOnly = CommandLine.arguments.contains("--sandboxes-only")

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
/// `x` with `digits` decimals (no Foundation here).
func fixed(_ x: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let n = Int((x * scale).rounded())
    guard digits > 0 else { return String(n) }
    let text = String(abs(n)), pad = String(repeating: "0", count: max(0, digits + 1 - text.count)) + text
    return (n < 0 ? "-" : "") + pad.dropLast(digits) + "." + pad.suffix(digits)
}
func micro(_ d: Duration) -> String { fixed(seconds(d) * 1e6, 1) + " µs" }

func serve(_ vm: VirtualMachine) {
    vm.register(syscall: 0x10000) { call in .value(call.argument(1)) }
    vm.register(syscall: 0x10001) { call in .value(call.argument(0) &+ call.argument(1)) }
    vm.register(syscall: 0x10002) { _ in .pause(returning: 0) }
}

func template(_ tier: ExecutionTier, compileThreads: Int? = nil) throws -> VirtualMachine {
    var configuration = Configuration()
    configuration.standardOutput = .discarded
    configuration.tier = tier
    configuration.compileThreads = compileThreads
    let vm = try VirtualMachine(programPath: program, configuration: configuration)
    serve(vm)
    guard vm.run() == .paused else { fatalError("embed_calls did not reach its request loop") }
    return vm
}

/// Resident memory of this process, bytes.
func residentBytes() -> Int {
    let fd = open("/proc/self/statm", O_RDONLY)
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 128)
    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    let fields = String(decoding: buffer[0..<max(0, n)], as: UTF8.self).split(separator: " ")
    return (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}

func percentile(_ values: [Duration], _ p: Int) -> Duration { values.sorted()[min(values.count - 1, values.count * p / 100)] }

// 1. Host function round trips: the guest's loop calls HOST_ADD n times.
let calls: UInt64 = quick ? 200_000 : 2_000_000
for tier in callsOnly ? [ExecutionTier.baseline] : snapshotsOnly || sandboxesOnly ? [] : [.interpreter, .baseline, .auto] {
    let vm = try template(tier)
    _ = try vm.call("host_calls", arguments: [1000])  // warm: compiled where the tier compiles
    let clock = ContinuousClock()
    let start = clock.now
    let total = try vm.call("host_calls", arguments: [calls])
    let elapsed = clock.now - start
    precondition(total == calls + calls * (calls - 1) / 2)
    print("host function round trip, \(tier.rawValue): \(fixed(seconds(elapsed) / Double(calls) * 1e9, 0)) ns per call (\(calls) calls)")
}

if callsOnly { exit(0) }

// 2. Machines from a snapshot: fresh ones (every copy kept alive, so none is recycled), and
// recycled ones (each dropped before the next starts: the next takes its machine), with the
// cost of dropping one (which resets it for the next).
for threads in sandboxesOnly ? [] : [nil, 0] as [Int?] {
    let snapshot = try template(.auto, compileThreads: threads).snapshot()
    var configuration = Configuration()
    configuration.standardOutput = .discarded
    configuration.compileThreads = threads
    let label = threads.map { "\($0) compile threads" } ?? "default compile threads"
    let clock = ContinuousClock()
    let count = quick ? 200 : 2_000
    var fresh: [Duration] = []
    var kept: [VirtualMachine] = []
    for k in 0..<count {
        let start = clock.now
        let vm = try VirtualMachine(snapshot: snapshot, configuration: configuration)
        fresh.append(clock.now - start)
        kept.append(vm)
        // (Dropped in batches: at most 100 machines alive, each dropped with others waiting.)
        if k % 100 == 99 { kept.removeAll() }
    }
    kept.removeAll()
    var recycled: [Duration] = []
    var dropped: [Duration] = []
    for _ in 0..<count {
        let start = clock.now
        var vm: VirtualMachine? = try VirtualMachine(snapshot: snapshot, configuration: configuration)
        recycled.append(clock.now - start)
        serve(vm!)
        _ = try vm!.call("add", arguments: [1, 2])
        let drop = clock.now
        vm = nil
        dropped.append(clock.now - drop)
    }
    func line(_ times: [Duration]) -> String {
        let mean = times.reduce(Duration.zero, +) / times.count
        return "mean \(micro(mean)), p50 \(micro(percentile(times, 50))), p99 \(micro(percentile(times, 99)))"
    }
    print("machine from a snapshot (\(label)), fresh: \(line(fresh)); snapshot holds \(snapshot.storedBytes >> 10) KiB of \(snapshot.mappedBytes >> 20) MiB mapped")
    print("machine from a snapshot (\(label)), recycled: \(line(recycled)); dropping one that served a call: \(line(dropped))")
}
if snapshotsOnly { exit(0) }

// 3. Idle copies: resident memory per machine, each having served one call.
if !sandboxesOnly {
    let snapshot = try template(.auto, compileThreads: 0).snapshot()
    var configuration = Configuration()
    configuration.standardOutput = .discarded
    configuration.compileThreads = 0
    let before = residentBytes()
    var idle: [VirtualMachine] = []
    let count = quick ? 50 : 200
    for _ in 0..<count {
        let vm = try VirtualMachine(snapshot: snapshot, configuration: configuration)
        serve(vm)
        _ = try vm.call("add", arguments: [1, 2])
        idle.append(vm)
    }
    let after = residentBytes()
    print("idle copies: \(count) machines, \(((after - before) / count) >> 10) KiB resident each")
    withExtendedLifetime(idle) {}
}

// 4. Short-lived sandboxes from Swift tasks: each a copy serving one request, then gone.
for inFlight in [2, 8, 32] {
    let snapshot = try template(.auto).snapshot()
    let count = quick ? 300 : 3_000
    let clock = ContinuousClock()
    let start = clock.now
    let latencies = try await withThrowingTaskGroup(of: Duration.self) { group in
        var latencies: [Duration] = []
        var next = 0
        func add() {
            let k = next
            next += 1
            group.addTask {
                let begin = ContinuousClock.now
                var configuration = Configuration()
                configuration.standardOutput = .discarded
                let vm = try VirtualMachine(snapshot: snapshot, configuration: configuration)
                serve(vm)
                guard try vm.call("add", arguments: [UInt64(k), 1]) == UInt64(k + 1) else { fatalError("wrong sum") }
                vm[x: 10] = 3
                guard vm.run() == .exited(3) else { fatalError("did not exit") }
                return ContinuousClock.now - begin
            }
        }
        for _ in 0..<inFlight { add() }
        while let latency = try await group.next() {
            latencies.append(latency)
            if next < count { add() }
        }
        return latencies
    }
    let elapsed = clock.now - start
    print("sandboxes, \(inFlight) in flight: \(count) in \(fixed(seconds(elapsed), 2)) s = \(Int(Double(count) / seconds(elapsed))) per second; latency p50 \(micro(percentile(latencies, 50))), p99 \(micro(percentile(latencies, 99))); peak resident \(residentBytes() >> 20) MiB")
}
