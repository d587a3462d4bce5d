@testable import RivetLinux
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `Sandbox.resolve` takes most paths in one pass over their bytes (`resolveDirectly`); these
/// tests hold it to the walk, one component at a time, on every path of a set built to reach
/// each of the shortcut's refusals: `..`, `.`, empty components, trailing slashes, names of
/// 255 and 256 bytes, symlinks (followed or not, dangling, looping, to directories, out of the
/// grant), a file where a directory should be, missing directories, a grant below another, an
/// overlay, /proc, and relative paths from several bases.
@Suite struct SandboxShortcutTests {
    static let names = [
        "work", "ro", "sub", "file.txt", "missing", "..", ".", "", "to-sub", "to-file", "dangling", "loop",
        "nested", "layer", "a.", "..b", "proc", "self", String(repeating: "n", count: 255), String(repeating: "n", count: 256),
    ]

    /// The shared tree: grant/ at /work, ro/ at /ro (read-only), deep/ at /work/nested (a grant
    /// below another), two layers at /layer, and symlinks of every kind in grant/.
    static func sandbox(hostFilesystem: Bool) throws -> (HostTree, Sandbox) {
        let tree = try HostTree()
        for dir in ["grant", "grant/sub", "grant/sub/sub", "ro", "ro/sub", "deep", "layer1", "layer2", "layer2/sub", "outside"] {
            tree.directory(dir)
        }
        for file in ["grant/file.txt", "grant/sub/file.txt", "ro/file.txt", "deep/file.txt", "layer1/file.txt", "outside/file.txt"] {
            tree.file(file)
        }
        tree.file("grant/" + String(repeating: "n", count: 255))
        tree.link("grant/to-sub", to: "sub")
        tree.link("grant/sub/to-file", to: "../file.txt")
        tree.link("grant/to-file", to: "/ro/file.txt")
        tree.link("grant/dangling", to: "missing")
        tree.link("grant/loop", to: "loop")
        tree.link("grant/sub/sub/to-sub", to: tree.path("outside"))
        let sandbox = Sandbox(
            grants: [
                DirectoryGrant(hostPath: tree.path("grant"), guestPath: "/work", writable: true),
                DirectoryGrant(hostPath: tree.path("ro"), guestPath: "/ro", writable: false),
                DirectoryGrant(hostPath: tree.path("deep"), guestPath: "/work/nested", writable: true),
                DirectoryGrant(hostPath: tree.path("layer1"), guestPath: "/layer", writable: false),
                DirectoryGrant(hostPath: tree.path("layer2"), guestPath: "/layer", writable: true),
            ],
            hostFilesystem: hostFilesystem, workingDirectory: "/work/sub")
        return (tree, sandbox)
    }

    /// Relative paths of up to three names (the third from the first ten), joined by `/`,
    /// some with a trailing `/` or a `//`.
    static func relativePaths() -> [String] {
        var paths: [String] = []
        for a in names {
            paths.append(a)
            for b in names {
                paths.append(a + "/" + b)
                for c in names.prefix(10) where !c.isEmpty { paths.append(a + "/" + b + "/" + c) }
            }
        }
        return paths + paths.prefix(400).map { $0 + "/" } + paths.prefix(400).map { "sub//" + $0 }
    }

    static func describe(_ r: Result<Sandbox.Resolution, SandboxError>) -> String {
        switch r {
        case .failure(let error): return "error \(error.errno)"
        case .success(let resolution):
            var status = "not looked at"
            switch resolution.status {
            case .success(let info): status = "inode \(info.st_ino) mode \(info.st_mode)"
            case .failure(let error): status = "status error \(error.errno)"
            case nil: break
            }
            return "\(resolution.guestPath) \(resolution.target) directory \(resolution.requiresDirectory) \(status)"
        }
    }

    func agree(hostFilesystem: Bool) throws {
        let (tree, sandbox) = try Self.sandbox(hostFilesystem: hostFilesystem)
        // The tree is removed when released: it must outlive the comparisons.
        defer { withExtendedLifetime(tree) {} }
        var compared = 0
        var shortcuts = 0
        let relative = Self.relativePaths()
        let cases = relative.flatMap { path in ([nil, "/work", "/ro/sub", "/layer", "/work/nested"] as [String?]).map { (path, $0) } }
            + relative.map { ("/work/" + $0, nil) } + relative.map { ("/" + $0, nil) }
        for (path, base) in cases {
            for follow in [true, false] {
                let walked = Self.describe(sandbox.resolveByWalking(path, relativeTo: base, followFinal: follow))
                let resolved = Self.describe(sandbox.resolve(path, relativeTo: base, followFinal: follow))
                #expect(resolved == walked, "\(path) from \(base ?? "cwd"), followFinal \(follow)")
                if case .resolved(let direct) = sandbox.resolveDirectly(path, relativeTo: base, followFinal: follow) {
                    shortcuts += 1
                    #expect(Self.describe(direct) == walked, "\(path) from \(base ?? "cwd"), followFinal \(follow)")
                }
                compared += 1
            }
        }
        // The set reaches both the shortcut and the walk often.
        #expect(compared > 50_000)
        #expect(shortcuts > compared / 10)
        #expect(shortcuts < compared * 4 / 5)
    }

    @Test func theShortcutResolvesAsTheWalkDoes() throws {
        try agree(hostFilesystem: false)
    }

    @Test func theShortcutResolvesAsTheWalkDoesWithTheHostFilesystem() throws {
        try agree(hostFilesystem: true)
    }
}
