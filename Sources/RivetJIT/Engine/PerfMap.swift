#if canImport(Glibc)
import Glibc
#endif

/// A Linux perf map (`/tmp/perf-PID.map`): one line per translation, `START SIZE NAME` in hex,
/// so that `perf record` / `perf report` name JIT code by guest symbol: `rivet:` for the
/// baseline's code, `rivet-opt:` for the optimizing tier's.
public final class PerfMap: @unchecked Sendable {
    private let fd: Int32
    private let symbolizer: @Sendable (UInt64) -> String?
    /// The map's path.
    public let path: String

    /// Opens (truncating) the map of the current process.
    /// - Parameter symbolizer: names a guest pc (`main+0x12`), or nil.
    public init?(symbolizer: @escaping @Sendable (UInt64) -> String?) {
        path = "/tmp/perf-\(getpid()).map"
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return nil }
        self.symbolizer = symbolizer
    }

    deinit { close(fd) }

    func record(_ t: Translation, entry: UInt) {
        let name = symbolizer(t.guestPC).map { "\($0) " } ?? ""
        let tier = t.optimized == nil ? "rivet" : "rivet-opt"
        var line = "\(String(entry, radix: 16)) \(String(t.hostLength, radix: 16)) \(tier):\(name)[0x\(String(t.guestPC, radix: 16))]\n"
        // The cold part: a baseline block's exit stubs and tails, then the instruction tables (a
        // tier-2 region's: its tables only).
        let cold = Int(bitPattern: entry) - t.hostOffset + t.coldOffset
        line += "\(String(cold, radix: 16)) \(String(t.coldLength, radix: 16)) \(tier):\(name)[0x\(String(t.guestPC, radix: 16))].cold\n"
        line.withUTF8 { _ = write(fd, $0.baseAddress, $0.count) }
    }
}
