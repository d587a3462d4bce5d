/// What the guest reads from its standard input.
///
/// ```swift
/// configuration.standardInput = .text("3 4\n")
/// configuration.standardInput = .stream(requestBody)   // an AsyncSequence of [UInt8]
/// ```
public struct GuestInput: Sendable {
    enum Source: Sendable {
        /// A host descriptor the embedder owns.
        case descriptor(Int32)
        /// Fixed bytes, as a file redirected with `<`.
        case bytes([UInt8])
        /// Chunks the host supplies while the guest runs, written into a pipe by `feed`.
        case stream(@Sendable (InputFeeder) async -> Void)
    }

    let source: Source

    /// The host file descriptor `descriptor`, which stays open and owned by the caller. Guest
    /// reads are host reads of it, and a guest blocked in one is interrupted by the limits.
    public static func fileDescriptor(_ descriptor: Int32) -> GuestInput {
        GuestInput(source: .descriptor(descriptor))
    }

    /// Fixed bytes: the guest sees a regular read-only file holding them, as with `< file`
    /// (it may seek, stat and map it), and end of file after them.
    public static func bytes(_ bytes: some Sequence<UInt8>) -> GuestInput {
        GuestInput(source: .bytes(Array(bytes)))
    }

    /// Fixed text, in UTF-8: `bytes(Array(text.utf8))`.
    public static func text(_ text: String) -> GuestInput { .bytes(Array(text.utf8)) }

    /// Nothing: the guest's first read returns end of file.
    public static var empty: GuestInput { .bytes([]) }

    /// Chunks of bytes the host produces while the guest runs. The guest sees a pipe: a read
    /// waits until a chunk has come or the sequence has ended (then end of file), and poll,
    /// select and epoll report it readable when either holds. A sequence that throws ends the
    /// input there. A guest waiting for input still stops at the wall-time limit or when its
    /// process ends; the sequence is cancelled when `run()` returns.
    /// - Parameter chunks: the input, in order; empty chunks are skipped.
    public static func stream<Chunks: AsyncSequence & Sendable>(_ chunks: Chunks) -> GuestInput
    where Chunks.Element == [UInt8] {
        GuestInput(
            source: .stream { feeder in
                do {
                    for try await chunk in chunks where !chunk.isEmpty {
                        guard await feeder.write(chunk) else { return }
                    }
                } catch {}
            })
    }

    /// Text the host produces while the guest runs, each string in UTF-8: as `stream(_:)` of
    /// byte chunks.
    public static func stream<Chunks: AsyncSequence & Sendable>(_ chunks: Chunks) -> GuestInput
    where Chunks.Element == String {
        GuestInput(
            source: .stream { feeder in
                do {
                    for try await chunk in chunks where !chunk.isEmpty {
                        guard await feeder.write(Array(chunk.utf8)) else { return }
                    }
                } catch {}
            })
    }

    /// Bytes the host produces one at a time while the guest runs (each reaches the guest as
    /// soon as it comes): as `stream(_:)` of byte chunks.
    public static func stream<Bytes: AsyncSequence & Sendable>(_ bytes: Bytes) -> GuestInput
    where Bytes.Element == UInt8 {
        GuestInput(
            source: .stream { feeder in
                do {
                    for try await byte in bytes {
                        guard await feeder.write([byte]) else { return }
                    }
                } catch {}
            })
    }
}
