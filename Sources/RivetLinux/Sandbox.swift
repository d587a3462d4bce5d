#if canImport(Glibc)
import Glibc
#endif

/// The guest's view of the filesystem: only granted host directories, each at a guest path,
/// plus the few files the sandbox makes up (`/proc/self/...`, `/dev/null` ...).
///
/// Paths are resolved in guest terms, one component at a time: `..` is applied to the guest
/// path already resolved, and each symbolic link met on the way is read and its target resolved
/// again as a guest path (an absolute target starts at the guest's root). So neither `..` nor
/// a symlink can lead outside the grants: every host path handed out is a grant's host root
/// followed by components that were real directories when checked, plus a final component.
/// Host calls on those paths go through `HostFileSystem`, which refuses symlinks in every
/// component, so a directory swapped for a symlink after the check cannot lead out either.
///
/// Grants with the same guest path form an overlay: a path resolves in the first of them
/// where it exists (how `--sysroot` lies under `--host-fs`, as with `qemu-riscv64 -L`); a new
/// name goes where its parent directory exists, a writable layer first.
///
/// Grant guest paths and emulated files are *mount points*. A directory above a mount point
/// is always a directory: the host directory of the grant it lies in when that is a real
/// directory (listing the mount points below it too), else a virtual, read-only directory that
/// lists only them; a virtual directory hides whatever the grant it lies in has below it.
/// Emulated files take precedence over grants, so `/proc/self` is emulated under `--host-fs`.
///
/// The embedder's memory files (`MemoryFile`) are emulated files too, and its memory
/// directories mount points that are directories themselves: the host directory a grant shows
/// there, else a virtual directory listing the mount points below it.
public final class Sandbox {
    /// Where a guest path leads.
    public enum Target: Equatable {
        /// A host path (which may not exist yet) in grant number `grant`, and whether that
        /// grant may be written.
        case host(String, writable: Bool, grant: Int)
        /// A directory that exists only in the guest's view (a parent of mount points), with
        /// its entries (without `.` and `..`).
        case virtualDirectory([String])
        /// A file the sandbox makes up.
        case emulated(EmulatedFile)
    }

    /// A resolved guest path.
    public struct Resolution: Equatable {
        /// Absolute guest path with no symlink, `.` or `..` in it.
        public var guestPath: String
        public var target: Target
        /// The path ended in `/` (or `.` or `..`), so it must name a directory.
        public var requiresDirectory: Bool
        /// The `lstat` of a host target as the resolution found it, or ENOENT if it found
        /// nothing there (nil if it did not look): a stat of the path needs no second look.
        public var status: Result<stat, SandboxError>? = nil

        public static func == (a: Resolution, b: Resolution) -> Bool {
            a.guestPath == b.guestPath && a.target == b.target && a.requiresDirectory == b.requiresDirectory
        }
    }

    public private(set) var grants: [DirectoryGrant]
    /// The guest's working directory, absolute and normalized.
    public var workingDirectory: String

    public static let maxSymlinks = 40

    /// Told, once, of a path `resolve` refuses because it lies outside every grant — not because
    /// it is missing inside one — when the host has that path or its parent directory: the
    /// guest sees ENOENT, which reads like a missing file, so the user should hear why. Given
    /// the absolute guest path; cleared once called.
    public var outsideGrantsObserver: ((String) -> Void)?

    private let grantComponents: [[String]]
    /// By grant: whether no other grant has its guest path (it is not overlaid).
    private let singleLayer: [Bool]
    /// By grant: whether the walk down to its guest root meets only directories, which it does
    /// unless an emulated or memory file stands on the way (each name above a grant's root
    /// leads to a mount point, so `map` makes it a real or a virtual directory, never a link).
    private let reachableDirectly: [Bool]
    /// Guest paths of grants and emulated files, as components.
    private let mountPoints: [[String]]
    /// By grant: whether the paths below its root resolve in one step (`resolveDirectly`), as
    /// `resolveWithinGrant` allows: it is the only layer at its guest path, reached without an
    /// emulated file on the way, not under /proc, and no mount point lies below its root.
    private let resolvesDirectly: [Bool]
    /// By grant: its guest path's bytes, empty for `/` (a path below it starts with these and
    /// a `/`).
    private let grantPrefixes: [[UInt8]]
    /// The embedder's files served from memory, by guest path.
    private let memoryFiles: [[String]: MemoryFile]
    /// The embedder's directories (guest paths, as components): each is a directory even
    /// with nothing below it.
    private let memoryDirectories: Set<[String]>
    private let processID = String(getpid())

    /// - Parameters:
    ///   - grants: host directories and where the guest sees them. Host paths are made
    ///     canonical (symlinks resolved) so that host calls can refuse every symlink.
    ///   - hostFilesystem: also grant the host's `/` at `/`, read-write, below the others.
    ///   - workingDirectory: the guest's initial working directory, a guest path.
    ///   - memoryFiles: files served from memory, at their guest paths.
    ///   - memoryDirectories: directories that exist in the guest's view (guest paths).
    public init(
        grants: [DirectoryGrant], hostFilesystem: Bool, workingDirectory: String, memoryFiles: [MemoryFile] = [],
        memoryDirectories: [String] = []
    ) {
        var all = grants.map {
            DirectoryGrant(
                hostPath: Self.canonical($0.hostPath), guestPath: Self.normalize($0.guestPath), writable: $0.writable)
        }
        if hostFilesystem { all.append(DirectoryGrant(hostPath: "/", guestPath: "/", writable: true)) }
        self.grants = all
        self.workingDirectory = Self.normalize(workingDirectory)
        let guestComponents = all.map { Self.components($0.guestPath) }
        grantComponents = guestComponents
        singleLayer = guestComponents.map { prefix in guestComponents.lazy.filter { $0 == prefix }.count == 1 }
        let files = Set(EmulatedFile.table.map(\.path) + memoryFiles.map(\.path))
        reachableDirectly = guestComponents.map { root in
            root.first != "proc" && !(0..<root.count).contains { files.contains(Array(root.prefix($0))) }
        }
        self.memoryFiles = Dictionary(memoryFiles.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        self.memoryDirectories = Set(memoryDirectories.map { Self.components(Self.normalize($0)) })
        let mounts = grantComponents + EmulatedFile.table.map(\.path) + [
            ["proc", "thread-self"], ["proc", "self", "task", processID],
        ] + memoryFiles.map(\.path) + self.memoryDirectories.filter { !$0.isEmpty }
        mountPoints = mounts
        let directories = self.memoryDirectories, single = singleLayer, reachable = reachableDirectly
        resolvesDirectly = guestComponents.indices.map { grant in
            let root = guestComponents[grant]
            let belowIsMounted =
                directories.contains(root) || mounts.contains { $0.count > root.count && $0.starts(with: root) }
            return single[grant] && reachable[grant] && root.first != "proc" && !belowIsMounted
        }
        grantPrefixes = guestComponents.map { $0.isEmpty ? [] : Array(("/" + $0.joined(separator: "/")).utf8) }
    }

    /// Splits a path into components, dropping empty ones and `.`.
    public static func components(_ path: String) -> [String] {
        // Over the UTF-8 bytes (a `/` is never part of a longer sequence): splitting the String
        // by Characters took a tenth of ninja's run, which resolves 50,000 paths.
        var path = path
        return path.withUTF8 { bytes in
            var out: [String] = []
            var start = 0
            for end in 0...bytes.count where end == bytes.count || bytes[end] == 0x2f {
                let length = end - start
                if length > 0 && !(length == 1 && bytes[start] == 0x2e) {
                    out.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self))
                }
                start = end + 1
            }
            return out
        }
    }

    /// Lexically normalizes an absolute path: no `.`, `..`, or repeated slashes.
    public static func normalize(_ path: String) -> String {
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

    // MARK: The host's /proc

    /// Where the host has procfs mounted, as path components (from /proc/self/mountinfo; just
    /// `/proc` if that cannot be read).
    public static let procMounts: [[String]] = {
        let fd = Glibc.open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [["proc"]] }
        defer { Glibc.close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        var mounts: [[String]] = []
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS"
            let fields = line.split(separator: " ")
            guard fields.count > 4, let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count,
                fields[dash + 1] == "proc"
            else { continue }
            mounts.append(components(unescapeMountPath(String(fields[4]))))
        }
        return mounts.isEmpty ? [["proc"]] : mounts
    }()

    /// The last component of each of `procMounts`.
    private static let procMountNames: [String] = procMounts.map { $0.last ?? "" }

    /// A mountinfo path with its octal escapes (`\040` for a space ...) decoded.
    private static func unescapeMountPath(_ text: String) -> String {
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var k = 0
        while k < bytes.count {
            if bytes[k] == 0x5c, k + 3 < bytes.count,
                let value = UInt8(String(decoding: bytes[(k + 1)...(k + 3)], as: UTF8.self), radix: 8)
            {
                out.append(value)
                k += 4
            } else {
                out.append(bytes[k])
                k += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether the host path lies in the host's procfs under a directory of this very process
    /// or one of its threads (`/proc/self`, `/proc/thread-self`, `/proc/PID`, `/proc/TID`,
    /// `/proc/PID/task/TID` of a compile worker ...). Through those the guest could read and
    /// write Rivet's own memory (`mem`), so no grant, not even the whole host filesystem, leads
    /// there: such paths do not exist for the guest.
    public static func namesHostProcess(_ hostPath: String) -> Bool {
        // Most paths are far from procfs: a path without the name of each mount's last
        // component in it is under none of them (no splitting then, on every resolution).
        guard procMountNames.contains(where: { contains(hostPath, $0) }) else { return false }
        let parts = components(hostPath)
        for mount in procMounts where parts.count > mount.count && parts.starts(with: mount) {
            let name = parts[mount.count]
            if name == "self" || name == "thread-self" { return true }
            guard let id = Int32(name), id > 0 else { continue }
            let pid = getpid()
            if id == pid { return true }
            let task = "/" + (mount + [String(pid), "task", name]).joined(separator: "/")
            if access(task, F_OK) == 0 { return true }
        }
        return false
    }

    /// Whether `text` has `part` in it, byte by byte: the standard library's generic search
    /// costs microseconds a call (metadata lookups), and every path a guest names passes here.
    private static func contains(_ text: String, _ part: String) -> Bool {
        var text = text, part = part
        return text.withUTF8 { haystack in
            part.withUTF8 { needle in
                guard let first = needle.first else { return true }
                guard haystack.count >= needle.count else { return false }
                for start in 0...(haystack.count - needle.count) where haystack[start] == first {
                    var k = 1
                    while k < needle.count && haystack[start + k] == needle[k] { k += 1 }
                    if k == needle.count { return true }
                }
                return false
            }
        }
    }

    /// The host's canonical form of `path` (realpath), or its normalized form if it does not exist.
    static func canonical(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return normalize(path) }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    // MARK: Resolution

    /// Resolves a guest path.
    /// - Parameters:
    ///   - path: an absolute guest path, or one relative to `base`.
    ///   - base: an absolute guest directory; nil for the working directory.
    ///   - followFinal: whether a symlink in the last component is followed (false for lstat,
    ///     readlink, unlink, O_NOFOLLOW). A trailing slash always follows.
    ///   - magicLinks: the guest path a magic link (`/proc/self/exe`, `/proc/self/fd/N`) names,
    ///     for paths that continue through one; nil fails them with ENOENT. A magic link in the
    ///     last component, when followed, is the result itself: the caller opens what it names.
    /// - Returns: the resolution, or a positive errno (ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG,
    ///   EACCES ...). A missing last component is not an error (the caller may create it):
    ///   its target is the host path it would have.
    public func resolve(
        _ path: String, relativeTo base: String? = nil, followFinal: Bool = true,
        magicLinks: ((EmulatedFile) -> String?)? = nil
    ) -> Result<Resolution, SandboxError> {
        guard !path.isEmpty else { return .failure(SandboxError(Errno.ENOENT)) }
        guard path.utf8.count < 4096 else { return .failure(SandboxError(Errno.ENAMETOOLONG)) }
        switch resolveDirectly(path, relativeTo: base, followFinal: followFinal) {
        case .resolved(let result): return result
        case .walk: return walk(path, relativeTo: base, followFinal: followFinal, magicLinks: magicLinks, oneStep: false)
        case .notDirect: return walk(path, relativeTo: base, followFinal: followFinal, magicLinks: magicLinks, oneStep: true)
        }
    }

    /// `resolve` without its shortcut (`resolveDirectly`), which must give the same: for tests.
    func resolveByWalking(_ path: String, relativeTo base: String? = nil, followFinal: Bool = true)
        -> Result<Resolution, SandboxError>
    {
        guard !path.isEmpty else { return .failure(SandboxError(Errno.ENOENT)) }
        guard path.utf8.count < 4096 else { return .failure(SandboxError(Errno.ENAMETOOLONG)) }
        return walk(path, relativeTo: base, followFinal: followFinal, magicLinks: nil, oneStep: true)
    }

    /// What `resolveDirectly` made of a path.
    enum Direct {
        /// The whole resolution.
        case resolved(Result<Resolution, SandboxError>)
        /// It looked at the host and found what only the walk resolves (a symlink to follow, an
        /// unusual error): walk, without the one step already taken.
        case walk
        /// Not a path for one step.
        case notDirect
    }

    /// The one step of `resolveWithinGrant` from the grant's root, decided on the path's bytes
    /// alone: most paths a guest names lie in one grant, below its root, with no `..` and no
    /// symlink, and for them the walk's arrays of components and their joins took more time
    /// than the host calls (a third of ninja's run went to resolving 49,000 paths). It gives
    /// exactly what `walk` gives: it applies only where `walk`'s first step would be this step
    /// and leaves to `walk` whatever that step would.
    func resolveDirectly(_ path: String, relativeTo base: String?, followFinal: Bool) -> Direct {
        // A path that must name a directory (a trailing `/`, `/.`, `.`) goes the long way.
        guard let last = path.utf8.last else { return .notDirect }
        if last == 0x2f { return .notDirect }
        if last == 0x2e, path.utf8.count == 1 || path.utf8.dropLast().last == 0x2f { return .notDirect }
        // The normalized absolute guest path, `/NAME` for each component.
        var normalized: [UInt8] = []
        normalized.reserveCapacity(256)
        func append(_ text: String) -> Bool {
            var text = text
            return text.withUTF8 { bytes in
                var start = 0
                for end in 0...bytes.count where end == bytes.count || bytes[end] == 0x2f {
                    let length = end - start
                    let first = start
                    start = end + 1
                    if length == 0 || (length == 1 && bytes[first] == 0x2e) { continue }
                    if length > 255 || (length == 2 && bytes[first] == 0x2e && bytes[first + 1] == 0x2e) { return false }
                    normalized.append(0x2f)
                    normalized.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[first..<end]))
                }
                return true
            }
        }
        if path.utf8.first != 0x2f, !append(base ?? workingDirectory) { return .notDirect }
        guard append(path), !normalized.isEmpty else { return .notDirect }
        // The deepest grant above it (`deepestGrant`).
        var grant = -1
        var depth = -1
        for (index, prefix) in grantPrefixes.enumerated() where grantComponents[index].count > depth {
            guard normalized.count > prefix.count, normalized[prefix.count] == 0x2f,
                normalized.starts(with: prefix)
            else { continue }
            grant = index
            depth = grantComponents[index].count
        }
        guard grant >= 0, resolvesDirectly[grant] else { return .notDirect }
        let root = grants[grant].hostPath
        let hostPath = (root == "/" ? "" : root) + String(decoding: normalized[grantPrefixes[grant].count...], as: UTF8.self)
        guard !Self.namesHostProcess(hostPath) else { return .notDirect }
        let status: Result<stat, SandboxError>
        switch Self.lookBelowGrant(hostPath, followFinal: followFinal) {
        case .found(let info): status = info.map { .success($0) } ?? .failure(SandboxError(Errno.ENOENT))
        case .failed(let error): return .resolved(.failure(error))
        case .walk: return .walk
        }
        var resolution = Resolution(
            guestPath: String(decoding: normalized, as: UTF8.self),
            target: .host(hostPath, writable: grants[grant].writable, grant: grant), requiresDirectory: false)
        resolution.status = status
        return .resolved(.success(resolution))
    }

    /// Resolves a guest path one component at a time (after one step within a grant when
    /// `oneStep`), following symlinks and `..` in guest terms.
    private func walk(
        _ path: String, relativeTo base: String?, followFinal: Bool, magicLinks: ((EmulatedFile) -> String?)?,
        oneStep: Bool
    ) -> Result<Resolution, SandboxError> {
        let absolute = path.hasPrefix("/") ? path : (base ?? workingDirectory) + "/" + path
        var requiresDirectory =
            path.hasSuffix("/") || path.hasSuffix("/.") || path.hasSuffix("/..") || path == "." || path == ".."
        var pending = Array(Self.components(absolute).reversed())
        var current: [String] = []
        var links = 0
        // The lstat of the last host name looked at, while it is `current`'s last component.
        var status: Result<stat, SandboxError>? = nil
        // The target of `current` when a step within a grant found it (else `map` tells).
        var known: Target? = nil
        // A step within a grant: the rest of the path taken, or the resolution's error.
        func take(_ step: WithinGrant) -> SandboxError? {
            switch step {
            case .found(let components, let found, let target):
                current = components
                pending.removeAll()
                status = found.map { .success($0) } ?? .failure(SandboxError(Errno.ENOENT))
                known = target
                return nil
            case .failed(let error):
                return error
            }
        }
        // Most paths lie inside one grant: they go from its root in one step.
        if oneStep, let (grant, depth) = deepestGrant(pending.reversed()), reachableDirectly[grant],
            let step = resolveWithinGrant(
                grantComponents[grant], hostPath: grants[grant].hostPath, grant: grant,
                rest: Array(pending.reversed().dropFirst(depth)), followFinal: followFinal || requiresDirectory)
        {
            if let error = take(step) { return .failure(error) }
        }
        while let component = pending.popLast() {
            status = nil
            if component == ".." {
                if !current.isEmpty { current.removeLast() }
                continue
            }
            guard component.utf8.count <= 255 else { return .failure(SandboxError(Errno.ENAMETOOLONG)) }
            let candidate = current + [component]
            let isLast = pending.isEmpty
            let follow = !isLast || followFinal || requiresDirectory
            guard let target = map(candidate) else { return refused(candidate, pending) }
            var linkText: [UInt8]? = nil
            switch target {
            case .virtualDirectory:
                break
            case .emulated(let file):
                guard follow else { break }
                switch file {
                case .link(let text):
                    linkText = Array(text.utf8)
                case .executableLink, .descriptorLink:
                    // Followed in the last component, the caller opens what it names.
                    guard !isLast || requiresDirectory else { break }
                    guard let text = magicLinks?(file) else { return .failure(SandboxError(Errno.ENOENT)) }
                    linkText = Array(text.utf8)
                default:
                    if !isLast && !file.isDirectory { return .failure(SandboxError(Errno.ENOTDIR)) }
                }
            case .host(let hostPath, _, let grant):
                if !isLast, let step = resolveWithinGrant(
                    candidate, hostPath: hostPath, grant: grant, rest: pending.reversed(),
                    followFinal: followFinal || requiresDirectory)
                {
                    if let error = take(step) { return .failure(error) }
                    continue
                }
                let found = HostFileSystem.lstat(hostPath)
                status = found
                switch found {
                case .failure(let error):
                    // A missing last component is fine: the caller may be creating it.
                    if isLast && error.errno == Errno.ENOENT { break }
                    return .failure(error)
                case .success(let info):
                    if info.st_mode & S_IFMT == S_IFLNK && follow {
                        switch HostFileSystem.readLink(hostPath) {
                        case .success(let text): linkText = text
                        case .failure(let error): return .failure(error)
                        }
                    } else if !isLast && info.st_mode & S_IFMT != S_IFDIR {
                        return .failure(SandboxError(Errno.ENOTDIR))
                    }
                }
            }
            if let linkText {
                links += 1
                guard links <= Self.maxSymlinks else { return .failure(SandboxError(Errno.ELOOP)) }
                guard !linkText.isEmpty else { return .failure(SandboxError(Errno.ENOENT)) }
                guard let text = String(validating: linkText, as: UTF8.self) else {
                    return .failure(SandboxError(Errno.ENOENT))
                }
                if text.hasPrefix("/") { current = [] }
                if isLast && (text.hasSuffix("/") || text.hasSuffix("/.") || text.hasSuffix("/..")) {
                    requiresDirectory = true
                }
                pending.append(contentsOf: Self.components(text).reversed())
                status = nil
                continue
            }
            current = candidate
        }
        guard let target = known ?? map(current) else { return .failure(SandboxError(Errno.ENOENT)) }
        if requiresDirectory {
            switch target {
            case .virtualDirectory: break
            case .emulated(let file):
                if !file.isDirectory { return .failure(SandboxError(Errno.ENOTDIR)) }
            case .host(let hostPath, _, _):
                if case .success(let info) = status ?? HostFileSystem.lstat(hostPath), info.st_mode & S_IFMT != S_IFDIR {
                    return .failure(SandboxError(Errno.ENOTDIR))
                }
            }
        }
        let guestPath = "/" + current.joined(separator: "/")
        var resolution = Resolution(guestPath: guestPath, target: target, requiresDirectory: requiresDirectory)
        if case .host = target { resolution.status = status }
        return .success(resolution)
    }

    /// The grant with the longest guest path that is a proper prefix of `components`, and
    /// that path's length.
    private func deepestGrant(_ components: [String]) -> (grant: Int, depth: Int)? {
        var best: (grant: Int, depth: Int)? = nil
        for (grant, root) in grantComponents.enumerated()
        where root.count < components.count && root.count > (best?.depth ?? -1) && components.starts(with: root) {
            best = (grant, root.count)
        }
        return best
    }

    /// The rest of a resolution in one step, when `candidate` (a directory or not, mapped to
    /// `hostPath` in `grant`) and every name in `rest` lie in one grant that is the only layer
    /// at its guest path, with no mount point below `candidate`: then the guest path below
    /// `candidate` is the host path below `hostPath`, and if its parent opens refusing symlinks
    /// (`HostFileSystem.lstatBelowRealDirectories`), each name before the last is a real
    /// directory, as the walk would have found one name at a time with an `lstat` each (three
    /// host calls per name: 41,000 `newfstatat` of ninja's took 2.2 s so).
    /// - Returns: the components of the whole path and the last one's status (nil if it is
    ///   missing: the caller may create it); the error of the whole resolution when a name
    ///   before the last is missing or not a directory (the parent's walk, refusing symlinks,
    ///   stopped at a real name, as the caller's walk would: a build tool's `stat` of outputs
    ///   in directories not made yet); nil to walk instead (a `..`, a symlink on the way or at
    ///   the end when it is followed, another error, a name too long, another layer, `/proc`).
    private func resolveWithinGrant(
        _ candidate: [String], hostPath: String, grant: Int, rest: [String], followFinal: Bool
    ) -> WithinGrant? {
        guard !rest.isEmpty, candidate.first != "proc", singleLayer[grant], !isMountPrefix(candidate),
            !rest.contains(where: { $0 == ".." || $0.utf8.count > 255 })
        else { return nil }
        // What `map` would say of the whole path, without its search: no grant or mount point
        // lies below `candidate`, so `grant` is the deepest covering it, and no emulated or
        // memory file is there; only the host's own /proc entries stay out.
        let fullHostPath = (hostPath == "/" ? "" : hostPath) + "/" + rest.joined(separator: "/")
        guard !Self.namesHostProcess(fullHostPath) else { return nil }
        switch Self.lookBelowGrant(fullHostPath, followFinal: followFinal) {
        case .found(let status):
            return .found(candidate + rest, status, .host(fullHostPath, writable: grants[grant].writable, grant: grant))
        case .failed(let error): return .failed(error)
        case .walk: return nil
        }
    }

    /// What the one step below a grant's root finds at `hostPath`.
    private enum Look {
        /// The last name's status, nil if it is missing (the caller may create it).
        case found(stat?)
        /// The resolution fails with this error: a name before the last is missing or not a
        /// directory, as the walk would have found.
        case failed(SandboxError)
        /// Only the walk resolves it: a symlink at the end that is followed, another error.
        case walk
    }

    /// The one step's host calls for `hostPath` (a grant's host root followed by clean names),
    /// shared by `resolveWithinGrant` and `resolveDirectly`: its parent opens refusing symlinks
    /// and the last name is looked at without following it.
    private static func lookBelowGrant(_ hostPath: String, followFinal: Bool) -> Look {
        let (parentOpened, found) = HostFileSystem.lstatBelowRealDirectories(hostPath)
        switch found {
        case .success(let info):
            return info.st_mode & S_IFMT == S_IFLNK && followFinal ? .walk : .found(info)
        case .failure(let error) where !parentOpened:
            return error.errno == Errno.ENOENT || error.errno == Errno.ENOTDIR ? .failed(error) : .walk
        case .failure(let error):
            return error.errno == Errno.ENOENT ? .found(nil) : .walk
        }
    }

    /// What `resolveWithinGrant` found.
    private enum WithinGrant {
        /// The whole path's components, the last one's status (nil if missing) and its target.
        case found([String], stat?, Target)
        /// The resolution fails with this error.
        case failed(SandboxError)
    }

    /// ENOENT for `candidate`, which `map` does not know, followed by the components still
    /// `pending` (reversed); `outsideGrantsObserver` hears of it if no grant covers it at all.
    private func refused(_ candidate: [String], _ pending: [String]) -> Result<Resolution, SandboxError> {
        if let observer = outsideGrantsObserver, liesOutsideGrants(candidate) {
            let path = Self.normalize("/" + (candidate + pending.reversed()).joined(separator: "/"))
            if Self.hostShows(path) {
                outsideGrantsObserver = nil
                observer(path)
            }
        }
        return .failure(SandboxError(Errno.ENOENT))
    }

    /// Whether no grant covers the guest path `components` — and it is not in the guest's own
    /// `/proc/self`, which no grant could show either.
    public func liesOutsideGrants(_ components: [String]) -> Bool {
        let components = aliasingProcessID(components)
        if components.starts(with: ["proc", "self"]) || components.starts(with: ["proc", "thread-self"]) { return false }
        return !grantComponents.contains { components.starts(with: $0) }
    }

    /// Whether a grant of the host path (as qemu-user, or `--host-fs`, would show it) could show
    /// the guest something at `path`: the host has it, or the directory it would be made in.
    /// Only for the note: the guest learns nothing of the host from it.
    private static func hostShows(_ path: String) -> Bool {
        guard !namesHostProcess(path) else { return false }
        if access(path, F_OK) == 0 { return true }
        var info = Glibc.stat()
        if Glibc.lstat(path, &info) == 0 { return true }  // a dangling symlink
        return Glibc.lstat(normalize(path + "/.."), &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    // MARK: The namespace

    /// Where the normalized guest path `components` leads, without following a symlink in it.
    public func map(_ path: [String]) -> Target? {
        let components = aliasingProcessID(path)
        if let file = emulatedFile(components) { return .emulated(file) }
        // The guest's /proc/self is wholly made up: a name the table lacks does not exist, and
        // the host's /proc/self (Rivet's own memory, maps, environment ...) never shows through.
        if components.count >= 2, components[0] == "proc", components[1] == "self" {
            return isMountPrefix(components) ? .virtualDirectory(children(components)) : nil
        }
        guard let target = mapToGrants(components) else { return nil }
        if case .host(let hostPath, _, _) = target, Self.namesHostProcess(hostPath) { return nil }
        return target
    }

    /// Where `components` (already aliased) leads among the grants.
    private func mapToGrants(_ components: [String]) -> Target? {
        let leadsToMount = isMountPrefix(components)
        // The grants whose guest path covers `components`, longest first; equal lengths overlay.
        var layers: [Int] = []
        var depth = -1
        for (index, prefix) in grantComponents.enumerated() {
            guard prefix.count <= components.count, components.starts(with: prefix) else { continue }
            if prefix.count > depth {
                layers = [index]
                depth = prefix.count
            } else if prefix.count == depth {
                layers.append(index)
            }
        }
        let virtual: Target? = leadsToMount ? .virtualDirectory(children(components)) : nil
        guard !layers.isEmpty else { return virtual }
        func host(_ grant: Int, _ parts: ArraySlice<String>) -> String {
            let root = grants[grant].hostPath
            let rest = parts.dropFirst(depth).joined(separator: "/")
            return rest.isEmpty ? root : (root == "/" ? "/" : root + "/") + rest
        }
        func isDirectory(_ path: String) -> Bool {
            if case .success(let info) = HostFileSystem.lstat(path) { return info.st_mode & S_IFMT == S_IFDIR }
            return false
        }
        func target(_ grant: Int) -> Target {
            .host(host(grant, components[...]), writable: grants[grant].writable, grant: grant)
        }
        // A directory between the grant's root and `components` that leads to a deeper mount
        // point but is not a real directory in any layer is virtual and hides the host below it.
        if depth + 1 < components.count {
            for k in (depth + 1)..<components.count where isMountPrefix(Array(components.prefix(k))) {
                if !layers.contains(where: { isDirectory(host($0, components.prefix(k))) }) { return virtual }
            }
        }
        if leadsToMount {
            return layers.first { isDirectory(host($0, components[...])) }.map(target) ?? virtual
        }
        if layers.count == 1 { return target(layers[0]) }
        if let existing = layers.first(where: { (try? HostFileSystem.lstat(host($0, components[...])).get()) != nil }) {
            return target(existing)
        }
        // A new name in an overlay: where its parent directory exists, a writable layer first.
        let parent = components.dropLast()
        let withParent = layers.filter { isDirectory(host($0, parent)) }
        return target(withParent.first { grants[$0].writable } ?? withParent.first ?? layers[0])
    }

    /// Whether the guest path `components` is a strict prefix of a mount point, or one of the
    /// embedder's directories: it must be a directory.
    public func isMountPrefix(_ components: [String]) -> Bool {
        memoryDirectories.contains(components)
            || mountPoints.contains { $0.count > components.count && $0.starts(with: components) }
    }

    /// Whether the guest path is a grant's root or lies above a mount point: it cannot be
    /// removed or renamed (EBUSY).
    public func isMountPoint(_ guestPath: String) -> Bool {
        let components = aliasingProcessID(Self.components(guestPath))
        return grantComponents.contains(components) || isMountPrefix(components)
    }

    /// Whether a host path is a grant's host root or one of its ancestors: renaming or removing
    /// it would move what another grant shows (EBUSY).
    public func holdsGrantRoot(_ hostPath: String) -> Bool {
        let host = Self.components(hostPath)
        return grants.contains { Self.components($0.hostPath).starts(with: host) && host.count > 0 }
    }

    /// The names of the mount points directly below the guest path `components`.
    public func children(_ components: [String]) -> [String] {
        let components = aliasingProcessID(components)
        var names: Set<String> = []
        for point in mountPoints where point.count > components.count && point.starts(with: components) {
            names.insert(point[components.count])
        }
        return names.sorted()
    }

    /// Every existing host directory behind the guest directory `components`, in overlay order.
    public func hostLayers(_ components: [String]) -> [String] {
        var result: [String] = []
        var depth = -1
        for (index, prefix) in grantComponents.enumerated() {
            guard prefix.count <= components.count, components.starts(with: prefix), prefix.count >= depth else { continue }
            if prefix.count > depth { result = [] }
            depth = prefix.count
            let rest = components.dropFirst(depth).joined(separator: "/")
            let root = grants[index].hostPath
            let path = rest.isEmpty ? root : (root == "/" ? "/" : root + "/") + rest
            if case .success(let info) = HostFileSystem.lstat(path), info.st_mode & S_IFMT == S_IFDIR {
                result.append(path)
            }
        }
        return result
    }

    /// `/proc/<our pid>/...` and `/proc/self/task/<our pid>/...` are `/proc/self/...`: the guest
    /// has one thread, whose id is the process id.
    private func aliasingProcessID(_ components: [String]) -> [String] {
        guard components.count >= 2, components[0] == "proc" else { return components }
        var aliased = components
        if aliased[1] == processID { aliased[1] = "self" }
        if aliased[1] == "self", aliased.count >= 4, aliased[2] == "task", aliased[3] == processID {
            aliased.removeSubrange(2...3)
        }
        return aliased
    }

    private func emulatedFile(_ components: [String]) -> EmulatedFile? {
        if let entry = EmulatedFile.table.first(where: { $0.path == components }) {
            if entry.file == .link("") { return .link(workingDirectory) }  // /proc/self/cwd
            return entry.file
        }
        if let file = memoryFiles[components] { return .memoryFile(file) }
        if components == ["proc", "thread-self"] { return .link("/proc/self/task/" + processID) }
        if components.count == 4, components.starts(with: ["proc", "self", "fd"]), let fd = Self.descriptorNumber(components[3]) {
            return .descriptorLink(fd)
        }
        return nil
    }

    /// A descriptor number as /proc/self/fd names it: decimal, no sign or leading zero.
    private static func descriptorNumber(_ name: String) -> Int32? {
        guard !name.isEmpty, name.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            name == "0" || !name.hasPrefix("0")
        else { return nil }
        return Int32(name)
    }

    /// The memory file at the guest path `guestPath`, if there is one.
    public func memoryFile(at guestPath: String) -> MemoryFile? {
        memoryFiles[Self.components(Self.normalize(guestPath))]
    }

    // MARK: Reverse mapping

    /// The guest path that leads to the host path `hostPath`, if some grant shows it (for
    /// /proc/self/exe and maps). The host path should be canonical.
    public func guestPath(forHost hostPath: String) -> String? {
        let host = Self.components(hostPath)
        let candidates = grants.enumerated()
            .filter { host.starts(with: Self.components($0.element.hostPath)) }
            .sorted { Self.components($0.element.hostPath).count > Self.components($1.element.hostPath).count }
        for (_, grant) in candidates {
            let rest = host.dropFirst(Self.components(grant.hostPath).count)
            let guest = Self.components(grant.guestPath) + rest
            if case .host(let path, _, _) = map(guest), path == "/" + host.joined(separator: "/") {
                return "/" + guest.joined(separator: "/")
            }
        }
        return nil
    }
}

/// A path resolution failure: a positive Linux errno.
public struct SandboxError: Error, Equatable {
    public var errno: Int64
    public init(_ errno: Int64) { self.errno = errno }
}
