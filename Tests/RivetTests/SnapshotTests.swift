#if canImport(Glibc)
import Glibc
#endif
import Testing

@testable import Rivet

/// Snapshots and the machines started from them (`Snapshot.swift`): copies that share the
/// snapshot's memory copy-on-write and go on from where it stood, independently.
@Suite struct SnapshotTests {
    static let program = Fixture.directory + "/bin/embed_calls"

    /// `embed_calls` paused in its request loop, its counter bumped to 5.
    func template(_ tier: ExecutionTier) throws -> VirtualMachine {
        var configuration = Configuration()
        configuration.standardOutput = .discarded
        configuration.tier = tier
        let vm = try VirtualMachine(programPath: Self.program, configuration: configuration)
        Self.serve(vm, resumeWith: 42)
        #expect(vm.run() == .paused)
        #expect(try vm.call("bump", arguments: [5]) == 5)
        return vm
    }

    static func serve(_ vm: VirtualMachine, resumeWith value: UInt64) {
        vm.register(syscall: 0x10000) { call in .value(call.argument(1)) }
        vm.register(syscall: 0x10001) { call in .value(call.argument(0) &+ call.argument(1)) }
        vm.register(syscall: 0x10002) { _ in .pause(returning: value) }
    }

    func copy(of snapshot: Snapshot, _ tier: ExecutionTier, output: OutputBuffer) throws -> VirtualMachine {
        var configuration = Configuration()
        configuration.standardOutput = .buffer(output)
        configuration.tier = tier
        return try VirtualMachine(snapshot: snapshot, configuration: configuration)
    }

    @Test(arguments: ExecutionTier.allCases)
    func copiesGoOnFromTheSnapshotIndependently(_ tier: ExecutionTier) throws {
        let original = try template(tier)
        let snapshot = try original.snapshot()
        #expect(snapshot.mappedBytes > 8 << 20)  // the stack, at least
        #expect(snapshot.storedBytes < 4 << 20)  // zero pages are not held
        let outputs = (0..<3).map { _ in OutputBuffer() }
        let copies = try outputs.map { try copy(of: snapshot, tier, output: $0) }
        let scratch = try #require(original.address(ofSymbol: "scratch"))
        for (k, vm) in copies.enumerated() {
            Self.serve(vm, resumeWith: UInt64(10 + k))
            #expect(try vm.call("bump", arguments: [UInt64(k + 1)]) == UInt64(6 + k))
            try vm.writeMemory([UInt8(k + 1)], at: scratch)
            #expect(try vm.call("fib", arguments: [15]) == 610)
        }
        // Nothing a copy did reached the others or the original.
        for (k, vm) in copies.enumerated() {
            #expect(try vm.readMemory(at: scratch, count: 1) == [UInt8(k + 1)])
        }
        #expect(try original.readMemory(at: scratch, count: 1) == [0])
        #expect(try original.call("bump", arguments: [0]) == 5)
        for (k, vm) in copies.enumerated() {
            // The copy stands where the original paused, its wait's result (42) in a0: each
            // request's copy gets its own.
            #expect(vm[x: 10] == 42)
            vm[x: 10] = UInt64(10 + k)
            #expect(vm.run() == .exited(Int32(10 + k)))
            #expect(outputs[k].text == "resumed with \(10 + k), counter \(6 + k)\n")
        }
        #expect(original.run() == .exited(42))
        // A snapshot outlives its machine; copies of copies work.
        let again = try copy(of: snapshot, tier, output: OutputBuffer())
        Self.serve(again, resumeWith: 7)
        #expect(try again.call("bump", arguments: [2]) == 7)
        let second = try again.snapshot()
        let grandchild = try copy(of: second, tier, output: OutputBuffer())
        Self.serve(grandchild, resumeWith: 8)
        #expect(try grandchild.call("bump", arguments: [0]) == 7)
        grandchild[x: 10] = 8
        #expect(grandchild.run() == .exited(8))
    }

    /// A dropped copy's machine serves the next copy (`RecycledMachine`): the next copy starts
    /// from the snapshot's memory, not from what the last one wrote — its data, its stack, a
    /// page it wrote through a syscall — and runs the code the last one compiled. A copy that
    /// changed its mappings is not recycled.
    @Test(arguments: ExecutionTier.allCases)
    func recycledCopiesStartFromTheSnapshotNotFromTheLastCopy(_ tier: ExecutionTier) throws {
        let original = try template(tier)
        let snapshot = try original.snapshot()
        let scratch = try #require(original.address(ofSymbol: "scratch"))
        let stackPage = (original[x: 2] & ~4095) - 4096
        let before = try original.readMemory(at: stackPage, count: 4096)
        var compiledBefore = 0
        for k in 0..<4 {
            let out = OutputBuffer()
            let vm = try copy(of: snapshot, tier, output: out)
            // What the last copy wrote is not here.
            #expect(try vm.readMemory(at: scratch, count: 16) == [UInt8](repeating: 0, count: 16))
            #expect(try vm.readMemory(at: stackPage, count: 4096) == before)
            #expect(vm[x: 10] == 42)
            if k > 0, tier != .interpreter {
                // The last copy's compiled code is here (`auto` compiles in the background: its
                // first copy may end before any compile is installed).
                #expect(vm.statistics.codeCacheUsed >= compiledBefore)
                if tier == .baseline { #expect(vm.statistics.codeCacheUsed > 0) }
            }
            Self.serve(vm, resumeWith: UInt64(k))
            #expect(try vm.call("bump", arguments: [UInt64(k + 1)]) == UInt64(6 + k))
            #expect(try vm.call("fib", arguments: [15]) == 610)
            try vm.writeMemory([UInt8](repeating: 0xa5, count: 16), at: scratch)
            try vm.writeMemory([UInt8](repeating: 0x5a, count: 4096), at: stackPage)
            // greet writes `scratch` from the guest too.
            try vm.writeMemory(Array("copy\0".utf8), at: scratch + 2048)
            #expect(try vm.call("greet", arguments: [scratch + 2048]) == 11)
            compiledBefore = vm.statistics.codeCacheUsed
            vm[x: 10] = UInt64(k)
            #expect(vm.run() == .exited(Int32(k)))
            #expect(out.text == "resumed with \(k), counter \(6 + k)\n")
        }
        // A copy whose guest maps more memory (a large malloc) is not recycled: the next copy is
        // built afresh, with nothing compiled.
        if tier == .baseline {
            let vm = try copy(of: snapshot, tier, output: OutputBuffer())
            #expect(vm.statistics.codeCacheUsed > 0)
            Self.serve(vm, resumeWith: 0)
            #expect(try vm.call("malloc", arguments: [4 << 20]) != 0)
            _ = consume vm
            let fresh = try copy(of: snapshot, tier, output: OutputBuffer())
            #expect(fresh.statistics.codeCacheUsed == 0)
            #expect(try fresh.readMemory(at: scratch, count: 16) == [UInt8](repeating: 0, count: 16))
        }
        // Machines are kept up to the snapshot's limit, and built ahead on request.
        var configuration = Configuration()
        configuration.tier = tier
        snapshot.keptMachines = 0
        #expect(snapshot.recycled.withLock { $0.machines.count } == 0)
        try snapshot.prepareMachines(3, configuration: configuration)
        #expect(snapshot.recycled.withLock { $0.machines.count } == 0)
        snapshot.keptMachines = 2
        try snapshot.prepareMachines(3, configuration: configuration)
        #expect(snapshot.recycled.withLock { $0.machines.count } == 2)
        let prepared = try VirtualMachine(snapshot: snapshot, configuration: configuration)
        #expect(snapshot.recycled.withLock { $0.machines.count } == 1)
        Self.serve(prepared, resumeWith: 9)
        #expect(try prepared.call("bump", arguments: [1]) == 6)
    }

    @Test func whatCannotBeCopiedIsRefused() throws {
        let vm = try template(.auto)
        #expect(vm.run() == .exited(42))
        do {
            _ = try vm.snapshot()
            Issue.record("snapshot of a finished guest")
        } catch { #expect(error.code == .snapshotUnavailable) }
        let fixture = try #require(Fixture.all.first { $0.name == "threads_amo_stress" })
        var configuration = Configuration()
        configuration.standardOutput = .discarded
        configuration.limits.instructions = 3_000_000
        let threaded = try VirtualMachine(programPath: fixture.binary, configuration: configuration)
        #expect(threaded.run() == .instructionLimitReached)
        do {
            _ = try threaded.snapshot()
            Issue.record("snapshot of a threaded guest")
        } catch { #expect(error.code == .snapshotUnavailable) }
    }

    /// A thousand short-lived sandboxes from Swift tasks, each a copy of one snapshot that
    /// serves one request (a guest call) and ends; the figures go to the performance notes.
    @Test func aThousandSandboxesFromTasks() async throws {
        let snapshot = try template(.auto).snapshot()
        let clock = ContinuousClock()
        let started = clock.now
        let count = 1_000
        let latencies = try await withThrowingTaskGroup(of: Duration.self) { group in
            var latencies: [Duration] = []
            var next = 0
            func add() {
                let k = next
                next += 1
                group.addTask {
                    let begin = ContinuousClock.now
                    let output = OutputBuffer()
                    var configuration = Configuration()
                    configuration.standardOutput = .buffer(output)
                    let vm = try VirtualMachine(snapshot: snapshot, configuration: configuration)
                    Self.serve(vm, resumeWith: UInt64(k % 100))
                    let result = try vm.call("add", arguments: [UInt64(k), 1])
                    vm[x: 10] = UInt64(k % 100)
                    guard result == UInt64(k + 1), vm.run() == .exited(Int32(k % 100)),
                        output.text == "resumed with \(k % 100), counter 5\n"
                    else { throw RivetError(.invalidCall, "sandbox \(k) went wrong") }
                    return ContinuousClock.now - begin
                }
            }
            for _ in 0..<8 { add() }
            while let latency = try await group.next() {
                latencies.append(latency)
                if next < count { add() }
            }
            return latencies
        }
        let elapsed = clock.now - started
        #expect(latencies.count == count)
        let sorted = latencies.sorted()
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        print(
            "sandboxes: \(count) in \(elapsed) (\(Int(Double(count) / seconds)) per second), p50 \(sorted[count / 2]), p99 \(sorted[count * 99 / 100])"
        )
    }
}
