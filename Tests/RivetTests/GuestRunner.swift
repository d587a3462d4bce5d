import Rivet

#if canImport(Glibc)
import Glibc
#endif

/// The repository's root, found from this file's path.
let repositoryRoot: String = {
    var parts = #filePath.split(separator: "/").map(String.init)
    parts.removeLast(3)  // Tests/RivetTests/GuestRunner.swift
    return "/" + parts.joined(separator: "/")
}()

/// What a guest run produced.
struct GuestRun {
    var standardOutput: String
    var standardError: String
    var reason: ExitReason
    var statistics: Statistics
}

/// Runs a guest program with its output captured in temporary files.
func runGuest(_ path: String, arguments: [String] = [], configure: (inout Configuration) -> Void = { _ in })
    throws -> GuestRun
{
    let out = try TemporaryFile()
    let err = try TemporaryFile()
    let input = open("/dev/null", O_RDONLY)
    defer { close(input) }
    var configuration = Configuration()
    configuration.arguments = arguments
    configuration.standardInput = .fileDescriptor(input)
    configuration.standardOutput = .fileDescriptor(out.fd)
    configuration.standardError = .fileDescriptor(err.fd)
    configuration.randomSeed = 42
    configuration.limits.instructions = 20_000_000_000
    configure(&configuration)
    let vm = try VirtualMachine(programPath: path, configuration: configuration)
    let reason = vm.run()
    return GuestRun(
        standardOutput: out.contents(), standardError: err.contents(), reason: reason, statistics: vm.statistics)
}

/// An unlinked temporary file.
final class TemporaryFile {
    let fd: Int32

    init() throws {
        var template = Array("/tmp/rivet-test-XXXXXX".utf8CString)
        fd = mkstemp(&template)
        guard fd >= 0 else { throw RivetError(.invalidConfiguration, "mkstemp failed") }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    }

    deinit { close(fd) }

    func contents() -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var offset: off_t = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if n <= 0 { break }
            bytes += buffer[0..<n]
            offset += off_t(n)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Reads a whole host file.
func readBytes(_ path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw RivetError(.unreadableProgram, "cannot open \(path)") }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        bytes += buffer[0..<n]
    }
    return bytes
}

/// Writes a whole host file (mode 0755, so it can be run).
func writeBytes(_ bytes: [UInt8], to path: String) throws {
    // Close-on-exec: a process another test spawns meanwhile must not inherit the descriptor,
    // or executing the file fails with ETXTBSY while that process runs (BinfmtTests did, with
    // status 126, beside the GDB tests' long-running clients).
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
    guard fd >= 0 else { throw RivetError(.invalidConfiguration, "cannot create \(path)") }
    defer { close(fd) }
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
        guard n > 0 else { throw RivetError(.invalidConfiguration, "cannot write \(path)") }
        done += n
    }
}

/// `path` with its symbolic links resolved, or nil if it does not exist.
func realpathString(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
}

/// Removes a host file.
func unlinkFile(_ path: String) -> Int32 { unlink(path) }

/// A host thread running `body`, for tests that run a guest while they act on it.
final class HostThread: @unchecked Sendable {
    private var thread = pthread_t()
    private let body: () -> Void

    init(_ body: @escaping () -> Void) {
        self.body = body
        let context = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&thread, nil, { raw in
            let box = Unmanaged<HostThread>.fromOpaque(raw!)
            box.takeUnretainedValue().body()
            box.release()
            return nil
        }, context)
    }

    /// Waits for `body` to return.
    func join() { pthread_join(thread, nil) }
}

/// Reads from `fd` until `marker` has arrived (or end of file); returns what was read.
func read(_ fd: Int32, until marker: String) -> String {
    var text: [UInt8] = []
    var byte: UInt8 = 0
    while !String(decoding: text, as: UTF8.self).hasSuffix(marker), read(fd, &byte, 1) == 1 { text.append(byte) }
    return String(decoding: text, as: UTF8.self)
}
