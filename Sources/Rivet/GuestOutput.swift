import Synchronization

/// Where the guest's standard output or standard error goes.
///
/// ```swift
/// let output = OutputBuffer()
/// configuration.standardOutput = .buffer(output)
/// configuration.standardError = .handler { bytes in log(bytes) }
/// _ = vm.run()
/// print(output.text)
/// ```
public struct GuestOutput: Sendable {
    enum Sink: Sendable {
        /// A host descriptor the embedder owns.
        case descriptor(Int32)
        /// Bytes handed to a closure; `buffer` names the `OutputBuffer` behind it, if any.
        case handler(@Sendable ([UInt8]) -> Void, buffer: OutputBuffer?)
        /// Nothing kept.
        case discarded
    }

    let sink: Sink

    /// The host file descriptor `descriptor`, which stays open and owned by the caller.
    public static func fileDescriptor(_ descriptor: Int32) -> GuestOutput {
        GuestOutput(sink: .descriptor(descriptor))
    }

    /// Calls `body` with the bytes the guest writes, in order, one call at a time, on a thread
    /// of Rivet's, while the guest runs; every byte written before `run()` returns has been
    /// handed over when it returns. The guest sees a pipe: a large write may come in pieces
    /// and small ones together, and writes wait while `body` is busy with earlier bytes. Output
    /// of the guest's forked processes comes too.
    /// - Parameter body: takes each piece of output.
    public static func handler(_ body: @escaping @Sendable ([UInt8]) -> Void) -> GuestOutput {
        GuestOutput(sink: .handler(body, buffer: nil))
    }

    /// Appends what the guest writes to `buffer`, as `handler(_:)` does. Standard output and
    /// standard error into the same buffer share one pipe, so their writes keep their order
    /// (as `2>&1`).
    public static func buffer(_ buffer: OutputBuffer) -> GuestOutput {
        GuestOutput(sink: .handler({ bytes in buffer.append(bytes) }, buffer: buffer))
    }

    /// Output is thrown away: the guest writes to `/dev/null`.
    public static var discarded: GuestOutput { GuestOutput(sink: .discarded) }
}

/// Bytes a guest wrote (`GuestOutput.buffer(_:)`), readable while it runs and after.
public final class OutputBuffer: Sendable {
    private let storage = Mutex<[UInt8]>([])

    /// An empty buffer.
    public init() {}

    /// Everything written so far.
    public var bytes: [UInt8] { storage.withLock { $0 } }

    /// Everything written so far, decoded as UTF-8 (invalid sequences become U+FFFD).
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Empties the buffer; later output is appended from the start.
    public func removeAll() { storage.withLock { $0.removeAll() } }

    func append(_ bytes: [UInt8]) { storage.withLock { $0 += bytes } }
}
