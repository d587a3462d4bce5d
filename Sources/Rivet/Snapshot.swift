import RivetLinux
import RivetMachine

/// A guest frozen between runs, from which new machines start as copies of it — libriscv's
/// machine fork, for a sandbox per request: start the guest once, let it reach the point where
/// it waits for work (a host function that returns `.pause`), snapshot it, then start each
/// request's machine from the snapshot instead of from the program.
///
/// The copies share the snapshot's memory copy-on-write (the host's MMU copies a page when a
/// copy first writes it), so an idle copy costs little memory and starting one does not read
/// the program again. A `Snapshot` is immutable and `Sendable`: machines can be started from it
/// on any thread, at once.
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
    /// nor compiled code (each copy compiles its own).
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
