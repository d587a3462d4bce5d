#if canImport(Glibc)
import Glibc
#endif
import Rivet

/// The host file operations the fuzzer needs: whole files, scratch directories (listed and
/// removed however the guest left them), captured output.
package enum HostFiles {
    /// Reads the whole file at `path`.
    /// - Throws: `RivetError` if it cannot be opened.
    package static func read(_ path: String) throws(RivetError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw RivetError(.unreadableProgram, "cannot open \(path)") }
        defer { close(fd) }
        return readAll(fd, limit: .max, hashLimit: 0).bytes
    }

    /// Writes `bytes` to `path` (created or truncated, with `mode`).
    /// - Throws: `RivetError` if it cannot be created or written.
    package static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(RivetError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw RivetError(.invalidConfiguration, "cannot create \(path)") }
        defer { close(fd) }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw RivetError(.invalidConfiguration, "cannot write \(path)") }
            done += n
        }
    }

    /// Writes `text` to `path`.
    /// - Throws: `RivetError` if it cannot be created or written.
    package static func write(_ text: String, to path: String) throws(RivetError) {
        try write(Array(text.utf8), to: path)
    }

    /// Up to `limit` bytes of `fd` from its start (holes read as zeros), its size, and an
    /// FNV-1a hash of its data: of each data extent (found with `SEEK_DATA`/`SEEK_HOLE`, so a
    /// guest that wrote at a huge offset costs nothing) with its offset, stopping after
    /// `hashLimit` bytes.
    package static func readAll(_ fd: Int32, limit: Int, hashLimit: Int = 64 << 20)
        -> (bytes: [UInt8], size: Int, hash: UInt64)
    {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return ([], 0, 0) }
        let size = Int(info.st_size)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        func read(at offset: Int, _ count: Int) -> ArraySlice<UInt8> {
            while true {
                let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, min(count, $0.count), off_t(offset)) }
                if n < 0 && errno == EINTR { continue }
                return buffer[0..<max(0, n)]
            }
        }
        var bytes: [UInt8] = []
        while bytes.count < min(limit, size) {
            let chunk = read(at: bytes.count, min(limit, size) - bytes.count)
            if chunk.isEmpty { break }
            bytes += chunk
        }
        // SEEK_DATA and SEEK_HOLE (Linux; Glibc declares them only under _GNU_SOURCE).
        let seekData: Int32 = 3
        let seekHole: Int32 = 4
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ byte: UInt8) { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        var hashed = 0
        var position = 0
        while position < size && hashed < hashLimit {
            let data = Int(lseek(fd, off_t(position), seekData))
            guard data >= 0 else { break }
            let hole = min(size, max(data, Int(lseek(fd, off_t(data), seekHole))))
            for shift in stride(from: 0, to: 64, by: 8) { mix(UInt8(truncatingIfNeeded: data >> shift)) }
            var at = data
            while at < hole && hashed < hashLimit {
                let chunk = read(at: at, min(hole - at, hashLimit - hashed))
                if chunk.isEmpty { break }
                for byte in chunk { mix(byte) }
                at += chunk.count
                hashed += chunk.count
            }
            position = max(hole, data + 1)
        }
        return (bytes, size, hash)
    }

    /// Creates `path` and any missing parents (mode 0755); existing directories are fine.
    package static func makeDirectories(_ path: String) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            mkdir(prefix, 0o755)
        }
    }

    /// A new empty directory `PARENT/PREFIX-XXXXXX`; by default `PARENT` is `TMPDIR` or /tmp.
    /// - Throws: `RivetError` if it cannot be made.
    package static func makeTemporaryDirectory(_ prefix: String, in parent: String? = nil) throws(RivetError) -> String {
        let parent = parent ?? getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array((parent + "/" + prefix + "-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw RivetError(.invalidConfiguration, "mkdtemp failed") }
        return String(cString: made)
    }

    /// Removes `path` and everything beneath it, never following a symbolic link, whatever
    /// permissions the guest gave the files and directories.
    package static func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if info.st_mode & S_IFMT == S_IFDIR {
            chmod(path, 0o700)
            for name in entries(path) { removeTree(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    /// The names in directory `path` (not `.` and `..`), sorted; empty if it cannot be read.
    package static func entries(_ path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [[UInt8]] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name != [0x2e] && name != [0x2e, 0x2e] { names.append(name) }
        }
        return names.sorted { $0.lexicographicallyPrecedes($1) }.map { String(decoding: $0, as: UTF8.self) }
    }

    /// Everything beneath `root`, depth first in name order: what a guest left in its scratch
    /// directory. Directories the guest made unreadable are opened up to be listed.
    package static func listTree(_ root: String) -> [FileEntry] {
        var result: [FileEntry] = []
        func visit(_ relative: String) {
            let path = relative.isEmpty ? root : root + "/" + relative
            var info = stat()
            guard lstat(path, &info) == 0 else { return }
            let mode = UInt32(info.st_mode) & 0o7777
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                if !relative.isEmpty { result.append(FileEntry(path: relative, type: .directory, size: 0, mode: mode)) }
                chmod(path, 0o700)
                for name in entries(path) { visit(relative.isEmpty ? name : relative + "/" + name) }
            case S_IFLNK:
                var buffer = [UInt8](repeating: 0, count: 4096)
                let n = buffer.withUnsafeMutableBytes {
                    readlink(path, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count)
                }
                let target = String(decoding: buffer[0..<max(0, n)], as: UTF8.self)
                result.append(FileEntry(path: relative, type: .link(target), size: 0, mode: 0))
            case S_IFREG:
                result.append(FileEntry(path: relative, type: .file, size: Int(info.st_size), mode: mode))
            default:
                result.append(FileEntry(path: relative, type: .special, size: 0, mode: mode))
            }
        }
        visit("")
        return result
    }
}
