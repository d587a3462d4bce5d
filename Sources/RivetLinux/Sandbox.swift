#if canImport(Glibc)
import Glibc
#endif

/// The guest's view of the filesystem: only granted host directories, each at a guest path.
///
/// Paths are resolved in guest terms, one component at a time: `..` is applied to the guest
/// path already resolved, and each symbolic link met on the way is read and its target resolved
/// again as a guest path (an absolute target starts at the guest's root). So neither `..` nor
/// a symlink can lead outside the grants: every host path handed out is a grant's host root
/// followed by components that were real directories when checked, plus a final component.
///
/// Grants with the same guest path form an overlay: a path resolves in the first of them
/// where it exists (how `--sysroot` lies under `--host-fs`, as with `qemu-riscv64 -L`).
/// Directories above grants exist as virtual, read-only directories listing what is below.
package final class Sandbox {
    /// Where a guest path leads.
    package enum Target: Equatable {
        /// A host path (which may not exist yet), and whether writing there is allowed.
        case host(String, writable: Bool)
        /// A directory that exists only in the guest's view, with its entries.
        case virtualDirectory([String])
    }

    package private(set) var grants: [DirectoryGrant]
    /// The guest's working directory, absolute and normalized.
    package var workingDirectory: String

    package static let maxSymlinks = 40

    package init(grants: [DirectoryGrant], hostFilesystem: Bool, workingDirectory: String) {
        var all = grants.map {
            DirectoryGrant(
                hostPath: Self.normalize($0.hostPath), guestPath: Self.normalize($0.guestPath), writable: $0.writable)
        }
        if hostFilesystem { all.append(DirectoryGrant(hostPath: "/", guestPath: "/", writable: true)) }
        self.grants = all
        self.workingDirectory = Self.normalize(workingDirectory)
    }

    /// Splits a path into components, dropping empty ones and `.`.
    package static func components(_ path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map(String.init).filter { $0 != "." }
    }

    /// Lexically normalizes an absolute path: no `.`, `..`, or repeated slashes.
    package static func normalize(_ path: String) -> String {
        var out: [String] = []
        for c in components(path) {
            if c == ".." {
                if !out.isEmpty { out.removeLast() }
            } else {
                out.append(c)
            }
        }
        return "/" + out.joined(separator: "/")
    }

    /// `path` made absolute against `base` (a normalized guest directory), without resolving it.
    package func absolute(_ path: String, relativeTo base: String? = nil) -> String {
        path.hasPrefix("/") ? path : (base ?? workingDirectory) + "/" + path
    }

    /// Resolves an absolute guest path.
    /// - Parameters:
    ///   - followFinal: whether a symlink in the last component is followed (false for lstat,
    ///     readlink, unlink, O_NOFOLLOW).
    /// - Returns: the resolved guest path (no symlinks, `.` or `..`) and its target, or a
    ///   positive errno (ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG).
    package func resolve(_ path: String, followFinal: Bool = true) -> Result<(guestPath: String, target: Target), SandboxError> {
        guard path.utf8.count < 4096 else { return .failure(SandboxError(Errno.ENAMETOOLONG)) }
        var pending = Array(Self.components(path).reversed())
        var current: [String] = []
        var links = 0
        while let component = pending.popLast() {
            if component == ".." {
                if !current.isEmpty { current.removeLast() }
                continue
            }
            let candidate = current + [component]
            let isLast = pending.allSatisfy { $0 == "." }
            guard let target = map(candidate) else { return .failure(SandboxError(Errno.ENOENT)) }
            guard case .host(let hostPath, _) = target else {
                current = candidate
                continue
            }
            if isLast && !followFinal {
                current = candidate
                continue
            }
            var info = stat()
            guard lstat(hostPath, &info) == 0 else {
                let error = Int64(errno)
                // A missing last component is fine: the caller may be creating it.
                if isLast && error == Errno.ENOENT {
                    current = candidate
                    continue
                }
                return .failure(SandboxError(error))
            }
            if info.st_mode & S_IFMT == S_IFLNK {
                links += 1
                guard links <= Self.maxSymlinks else { return .failure(SandboxError(Errno.ELOOP)) }
                guard let link = Self.readLink(hostPath) else { return .failure(SandboxError(Int64(errno))) }
                if link.hasPrefix("/") { current = [] }
                pending.append(contentsOf: Self.components(link).reversed())
                continue
            }
            if !isLast && info.st_mode & S_IFMT != S_IFDIR { return .failure(SandboxError(Errno.ENOTDIR)) }
            current = candidate
        }
        guard let target = map(current) else { return .failure(SandboxError(Errno.ENOENT)) }
        return .success(("/" + current.joined(separator: "/"), target))
    }

    /// Where the normalized guest path `components` leads, without looking at symlinks.
    package func map(_ components: [String]) -> Target? {
        var best: [DirectoryGrant] = []
        var bestLength = -1
        for grant in grants {
            let prefix = Self.components(grant.guestPath)
            guard prefix.count <= components.count, Array(components.prefix(prefix.count)) == prefix else { continue }
            if prefix.count > bestLength {
                best = [grant]
                bestLength = prefix.count
            } else if prefix.count == bestLength {
                best.append(grant)
            }
        }
        if !best.isEmpty {
            let rest = components.dropFirst(bestLength).joined(separator: "/")
            func host(_ grant: DirectoryGrant) -> String {
                rest.isEmpty ? grant.hostPath : (grant.hostPath == "/" ? "/" : grant.hostPath + "/") + rest
            }
            if best.count > 1 {
                var info = stat()
                for grant in best where lstat(host(grant), &info) == 0 {
                    return .host(host(grant), writable: grant.writable)
                }
            }
            return .host(host(best[0]), writable: best[0].writable)
        }
        // A parent of some grant: a virtual directory listing the next components.
        var names: [String] = []
        for grant in grants {
            let prefix = Self.components(grant.guestPath)
            if prefix.count > components.count, Array(prefix.prefix(components.count)) == components {
                let name = prefix[components.count]
                if !names.contains(name) { names.append(name) }
            }
        }
        return names.isEmpty ? nil : .virtualDirectory(names.sorted())
    }

    /// The guest path of a host path inside some grant (for getcwd of a host-side path), if any.
    package func guestPath(forHost hostPath: String) -> String? {
        let host = Self.components(hostPath)
        var best: (length: Int, path: String)? = nil
        for grant in grants {
            let prefix = Self.components(grant.hostPath)
            guard prefix.count <= host.count, Array(host.prefix(prefix.count)) == prefix else { continue }
            if best == nil || prefix.count > best!.length {
                let rest = host.dropFirst(prefix.count).joined(separator: "/")
                best = (prefix.count, Self.normalize(grant.guestPath + "/" + rest))
            }
        }
        return best?.path
    }

    static func readLink(_ hostPath: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4097)
        let n = readlink(hostPath, &buffer, 4096)
        guard n >= 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A path resolution failure: a positive Linux errno.
package struct SandboxError: Error, Equatable {
    package var errno: Int64
    package init(_ errno: Int64) { self.errno = errno }
}
