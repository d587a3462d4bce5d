import RivetInterpreter
import RivetJIT
import RivetLinux
import RivetMachine
import Synchronization

/// A guest frozen between runs, from which new machines start as copies of it — libriscv's
/// machine fork, for a sandbox per request: start the guest once, let it reach the point where
/// it waits for work (a host function that returns `.pause`), snapshot it, then start each
/// request's machine from the snapshot instead of from the program.
///
/// The copies share the snapshot's memory copy-on-write (the host's MMU copies a page when a
/// copy first writes it), so an idle copy costs little memory and starting one does not read
/// the program again. A `Snapshot` is `Sendable`: machines can be started from it on any
/// thread, at once.
///
/// A dropped copy's machine is kept for the next copy (`keptMachines`): its memory is put back
/// to the snapshot's (nothing the copy wrote stays) and its compiled code stays, so the next
/// copy starts in tens of microseconds and runs compiled code at once. `prepareMachines` builds
/// some ahead.
///
/// ```swift
/// let template = try VirtualMachine(programPath: "server", configuration: configuration)
/// template.register(syscall: 0x10002) { _ in .pause(returning: 0) }   // "wait for a request"
/// _ = template.run()                                                   // .paused, set up
/// let snapshot = try template.snapshot()
/// let vm = try VirtualMachine(snapshot: snapshot)                      // per request
/// ```
public final class Snapshot: Sendable {
    let configuration: Configuration
    let executablePath: String
    let arguments: [String]
    let memory: MemoryImage
    let process: ProcessImage
    let registers: SavedRegisters
    /// Machines of dropped copies, reset to the snapshot and ready for the next copy (see
    /// `RecycledMachine`), and how many may wait.
    let recycled = Mutex<(machines: [RecycledMachine], limit: Int)>(([], 8))

    /// How many machines of dropped copies the snapshot keeps for its next copies (8 unless
    /// set; 0 turns recycling off and frees those kept). A copy started from a kept machine
    /// starts in tens of microseconds instead of a hundred or more, with the code the earlier
    /// copies compiled; each kept machine holds its compiled code and a few hundred KiB.
    public var keptMachines: Int {
        get { recycled.withLock { $0.limit } }
        set {
            let dropped: [RecycledMachine] = recycled.withLock { pool in
                pool.limit = max(0, newValue)
                guard pool.machines.count > pool.limit else { return [] }
                defer { pool.machines.removeFirst(pool.machines.count - pool.limit) }
                return Array(pool.machines.prefix(pool.machines.count - pool.limit))
            }
            _ = dropped  // freed here, outside the lock
        }
    }

    /// Starts `count` machines with `configuration` (by default the snapshot's machine's) and
    /// drops them, so that the snapshot keeps them (up to `keptMachines`) and the next copies
    /// with that configuration start at once: for a server, before its first requests.
    /// - Throws: `RivetError` as `VirtualMachine(snapshot:configuration:)` does.
    public func prepareMachines(_ count: Int, configuration: Configuration? = nil) throws(RivetError) {
        var machines: [VirtualMachine] = []
        for _ in 0..<min(count, keptMachines) {
            machines.append(try VirtualMachine(snapshot: self, configuration: configuration))
        }
    }

    init(
        configuration: Configuration, executablePath: String, arguments: [String], memory: MemoryImage,
        process: ProcessImage, registers: SavedRegisters
    ) {
        self.configuration = configuration
        self.executablePath = executablePath
        self.arguments = arguments
        self.memory = memory
        self.process = process
        self.registers = registers
    }

    /// A recycled machine for a copy with `key`'s configuration, if one waits.
    func takeRecycled(_ key: RecycleKey) -> RecycledMachine? {
        recycled.withLock { pool in
            guard let k = pool.machines.lastIndex(where: { $0.key == key }) else { return nil }
            return pool.machines.remove(at: k)
        }
    }

    /// Keeps `machine` for the next copy, unless enough wait already (then it is freed).
    func keep(_ machine: RecycledMachine) {
        let kept = recycled.withLock { pool in
            guard pool.machines.count < pool.limit else { return false }
            pool.machines.append(machine)
            return true
        }
        // (Else the machine is freed here, outside the lock.)
        _ = kept
    }

    /// Bytes of guest memory the snapshot holds (pages of zeros are not held).
    public var storedBytes: UInt64 { memory.storedBytes }

    /// Bytes of guest address space its machines start with mapped.
    public var mappedBytes: UInt64 { memory.pieces.reduce(0) { $0 + ($1.end - $1.start) } }
}

extension VirtualMachine {
    /// Freezes the guest as it stands between runs (before the first, or after a resumable
    /// stop) into a `Snapshot` that new machines start from (`init(snapshot:configuration:)`).
    /// The machine itself goes on unchanged.
    ///
    /// A snapshot holds the guest's memory, registers, heap, signal dispositions, working
    /// directory and program; not the embedder's host functions (register them on each copy),
    /// nor compiled code (copies compile their own; a copy started from a dropped copy's machine
    /// has that copy's, see `Snapshot.keptMachines`).
    /// - Throws: `RivetError` (`.snapshotUnavailable`) if the guest is over, has more than one
    ///   thread, holds descriptors besides 0-2, or has shared memory mappings — what a copy
    ///   could not share.
    public func snapshot() throws(RivetError) -> Snapshot {
        if let finished { throw RivetError(.snapshotUnavailable, "the guest is over (\(finished))") }
        guard handlerThread == nil, callingThreads.isEmpty else {
            throw RivetError(.snapshotUnavailable, "a snapshot is taken between runs, not from a host function")
        }
        let image: ProcessImage
        do { image = try process.captureImage() } catch {
            throw RivetError(.snapshotUnavailable, "cannot snapshot the guest: \(error.message)")
        }
        let memoryImage: MemoryImage
        do { memoryImage = try memory.captureImage() } catch {
            let reason = error == .accessDenied ? "it has shared memory mappings" : "the host refused memory for it"
            throw RivetError(.snapshotUnavailable, "cannot snapshot the guest: \(reason)")
        }
        return Snapshot(
            configuration: configuration, executablePath: process.configuration.executablePath,
            arguments: process.configuration.arguments, memory: memoryImage, process: image,
            registers: SavedRegisters(process.hart))
    }

    /// Starts a machine as a copy of the guest `snapshot` froze: its next `run()` goes on from
    /// where that guest stood. `configuration` (by default the snapshot's machine's) gives the
    /// copy its streams, files, grants, limits and tiers; the program, its arguments and
    /// environment are the snapshot's.
    /// - Throws: `RivetError` if the host cannot reserve the guest's memory, or the snapshot's
    ///   memory exceeds `configuration`'s limit.
    public convenience init(snapshot: Snapshot, configuration: Configuration? = nil) throws(RivetError) {
        try self.init(.snapshot(snapshot), configuration: configuration ?? snapshot.configuration)
    }
}

/// What a dropped copy of a snapshot leaves for the next copy: its address space (reset to the
/// snapshot: the pages it wrote dropped, its layout still the snapshot's), its first hart, and
/// its interpreter and engine with the code they decoded and compiled. A copy made from one
/// skips reserving and mapping memory and building an engine (most of a start: the host's
/// mmap calls alone cost 3-5 µs each here), and runs the snapshot's code compiled at once:
/// copies of one snapshot share compiled code in sequence.
///
/// Only a copy that ends as it began can be recycled: one thread, its mappings unchanged
/// (`GuestMemory.reset(to:)`), no debugger; the rest are freed as any machine is.
/// What the next guest could learn of the last one: nothing of its memory (each page is the
/// snapshot's again), registers or streams (new), only which snapshot code ran and got compiled
/// (code from pages the guest could write is forgotten).
struct RecycledMachine: @unchecked Sendable {
    // (Unchecked: a recycled machine has one owner at a time, the pool or one copy.)
    let key: RecycleKey
    let memory: GuestMemory
    let hart: HartState
    let interpreter: Interpreter
    let engine: Engine
}

/// What of a copy's configuration its memory, interpreter and engine were built for: a
/// recycled machine serves only a copy configured the same.
struct RecycleKey: Equatable, Sendable {
    let memoryBytes: UInt64
    let tier: ExecutionTier
    let codeCacheBytes: Int
    let decodedBlockCacheBytes: Int
    let cachePolicy: CachePolicy
    let tierUpThreshold: UInt32
    let optimizingThreshold: UInt32
    let sliceInstructions: UInt64
    let optimizesOnGuestThread: Bool
    let countingLimit: UInt32
    let adaptsThresholds: Bool
    let compileThreads: Int?
    let compileTimeLimit: Duration

    /// nil for a configuration whose machines are never recycled (a debugger, traces, a perf map
    /// name their program's code in ways a recycled engine would not).
    init?(_ c: Configuration) {
        guard c.debugger == nil, !c.tracesInstructions, !c.writesPerfMap else { return nil }
        memoryBytes = c.limits.memoryBytes
        tier = c.tier
        codeCacheBytes = c.codeCacheBytes
        decodedBlockCacheBytes = c.decodedBlockCacheBytes
        cachePolicy = c.cachePolicy
        tierUpThreshold = c.tierUpThreshold
        optimizingThreshold = c.optimizingThreshold
        sliceInstructions = c.sliceInstructions
        optimizesOnGuestThread = c.optimizesOnGuestThread
        countingLimit = c.countingLimit
        adaptsThresholds = c.adaptsThresholds
        compileThreads = c.compileThreads
        compileTimeLimit = c.compileTimeLimit
    }
}

extension VirtualMachine {
    /// Gives this machine's memory, hart, interpreter and engine to its snapshot for the next
    /// copy, if it is a copy that can be recycled (see `RecycledMachine`). Called as it is
    /// dropped, with no guest thread running.
    func recycle() {
        guard let (snapshot, key) = recycling, debugger == nil, process.threads.count == 1,
            mainThread?.hart === hart, engine.isSingleHart, hostCalls.pointee.running == 0
        else { return }
        guard memory.reset(to: snapshot.memory), engine.prepareForAnotherGuest() else { return }
        snapshot.keep(RecycledMachine(key: key, memory: memory, hart: hart, interpreter: interpreter, engine: engine))
    }
}
