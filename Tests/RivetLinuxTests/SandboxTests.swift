import RivetLinux
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A scratch directory tree on the host, removed when released.
final class HostTree {
    let root: String

    init() throws {
        var template = Array("/tmp/rivet-sandbox-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SandboxError(Errno.EIO) }
        // Canonical, as the sandbox makes grant paths.
        let resolved = realpath(made, nil)!
        root = String(cString: resolved)
        free(resolved)
    }

    deinit { _ = system("rm -rf '\(root)'") }

    func path(_ relative: String) -> String { root + "/" + relative }

    func directory(_ relative: String) {
        mkdir(path(relative), 0o755)
    }

    func file(_ relative: String, _ contents: String = "x") {
        let fd = open(path(relative), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = contents.withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }

    func link(_ relative: String, to target: String) {
        symlink(target, path(relative))
    }
}

extension Result where Success == Sandbox.Resolution, Failure == SandboxError {
    var target: Sandbox.Target? { try? get().target }
    var guestPath: String? { try? get().guestPath }
    var errno: Int64? {
        if case .failure(let error) = self { return error.errno }
        return nil
    }
}

@Suite struct SandboxTests {
    /// grant/ at /work (read-write), ro/ at /ro (read-only), outside/ not granted.
    static func standard() throws -> (HostTree, Sandbox) {
        let tree = try HostTree()
        for dir in ["grant", "grant/sub", "ro", "outside"] { tree.directory(dir) }
        tree.file("grant/file.txt")
        tree.file("grant/sub/inner.txt")
        tree.file("ro/data.txt")
        tree.file("outside/secret.txt")
        let sandbox = Sandbox(
            grants: [
                DirectoryGrant(hostPath: tree.path("grant"), guestPath: "/work", writable: true),
                DirectoryGrant(hostPath: tree.path("ro"), guestPath: "/ro", writable: false),
            ],
            hostFilesystem: false, workingDirectory: "/work")
        return (tree, sandbox)
    }

    @Test func grantedFilesResolveToTheirHostPaths() throws {
        let (tree, sandbox) = try Self.standard()
        #expect(sandbox.resolve("/work/file.txt").target == .host(tree.path("grant/file.txt"), writable: true, grant: 0))
        #expect(sandbox.resolve("sub/inner.txt").target == .host(tree.path("grant/sub/inner.txt"), writable: true, grant: 0))
        #expect(sandbox.resolve("/ro/data.txt").target == .host(tree.path("ro/data.txt"), writable: false, grant: 1))
        #expect(sandbox.resolve("inner.txt", relativeTo: "/work/sub").guestPath == "/work/sub/inner.txt")
    }

    @Test func dotDotStopsAtTheGuestRoot() throws {
        let (tree, sandbox) = try Self.standard()
        #expect(sandbox.resolve("/../../work/file.txt").guestPath == "/work/file.txt")
        #expect(sandbox.resolve("../../../../../../work/file.txt").guestPath == "/work/file.txt")
        // The host parent of the grant is not reachable, by any number of `..`.
        #expect(sandbox.resolve("../outside/secret.txt").errno == Errno.ENOENT)
        #expect(sandbox.resolve("/work/../../../../" + tree.path("outside/secret.txt")).errno == Errno.ENOENT)
        #expect(sandbox.resolve(tree.path("outside/secret.txt")).errno == Errno.ENOENT)
        #expect(sandbox.resolve("/etc/passwd").errno == Errno.ENOENT)
    }

    @Test func symlinksResolveAsGuestPaths() throws {
        let (tree, sandbox) = try Self.standard()
        tree.link("grant/absolute", to: "/etc/passwd")
        tree.link("grant/relative", to: "../../../../../../../../etc/passwd")
        tree.link("grant/host-path", to: tree.path("outside/secret.txt"))
        tree.link("grant/up", to: "../../..")
        tree.link("grant/into-ro", to: "/ro/data.txt")
        tree.link("grant/chain1", to: "chain2")
        tree.link("grant/chain2", to: "sub/../sub")
        // An absolute target is a guest path: /etc/passwd is not granted.
        #expect(sandbox.resolve("/work/absolute").errno == Errno.ENOENT)
        #expect(sandbox.resolve("/work/relative").errno == Errno.ENOENT)
        #expect(sandbox.resolve("/work/host-path").errno == Errno.ENOENT)
        // ../../.. from /work stays at the guest's root.
        #expect(sandbox.resolve("/work/up").guestPath == "/")
        #expect(sandbox.resolve("/work/up/work/file.txt").guestPath == "/work/file.txt")
        #expect(sandbox.resolve("/work/into-ro").target == .host(tree.path("ro/data.txt"), writable: false, grant: 1))
        #expect(sandbox.resolve("/work/chain1/inner.txt").guestPath == "/work/sub/inner.txt")
        // Not following the last component gives the link itself.
        #expect(
            sandbox.resolve("/work/absolute", followFinal: false).target
                == .host(tree.path("grant/absolute"), writable: true, grant: 0))
        // A trailing slash follows it anyway.
        #expect(sandbox.resolve("/work/chain1/", followFinal: false).guestPath == "/work/sub")
    }

    /// The observer hears, once, of a refusal because no grant covers the path, with the
    /// path as the guest meant it; not of a file missing inside a grant, nor of what the host
    /// lacks too, nor of the guest's own /proc/self.
    @Test func refusalsOutsideEveryGrantAreReportedOnce() throws {
        let (tree, sandbox) = try Self.standard()
        var heard: [String] = []
        sandbox.outsideGrantsObserver = { heard.append($0) }
        #expect(sandbox.resolve("/work/missing.txt").errno == nil, "a new name in a grant resolves")
        #expect(sandbox.resolve("/work/missing/deeper").errno == Errno.ENOENT)
        #expect(sandbox.resolve("/ro/missing/deeper").errno == Errno.ENOENT)
        #expect(sandbox.resolve("/proc/self/nothing").errno == Errno.ENOENT)
        #expect(sandbox.resolve("/nonexistent-\(getpid())/x").errno == Errno.ENOENT)
        #expect(heard.isEmpty, "\(heard)")
        // A symlink in a grant that leads out: the path it leads to is the one refused.
        tree.link("grant/escape", to: "../../.." + tree.path("outside/secret.txt"))
        #expect(sandbox.resolve("/work/escape").errno == Errno.ENOENT)
        #expect(heard == [tree.path("outside/secret.txt")])
        #expect(sandbox.resolve("/etc/passwd").errno == Errno.ENOENT)
        #expect(heard.count == 1, "said once")
        #expect(sandbox.outsideGrantsObserver == nil)
        // A new name whose parent the host has (the guest may have wanted to create it).
        sandbox.outsideGrantsObserver = { heard.append($0) }
        #expect(sandbox.resolve(tree.path("outside/new.txt")).errno == Errno.ENOENT)
        #expect(heard.last == tree.path("outside/new.txt"))
    }

    /// A resolution keeps the `lstat` of what it found (a stat needs no second look): the
    /// file's, the link's when not followed, the target's when followed through links on the
    /// way, and ENOENT for a missing last name.
    @Test func resolutionsCarryTheStatusTheyFound() throws {
        let (tree, sandbox) = try Self.standard()
        tree.link("grant/absolute", to: "/etc/passwd")
        tree.link("grant/to-sub", to: "sub")
        tree.link("grant/sub/to-inner", to: "inner.txt")
        for dir in ["grant/a", "grant/a/b", "grant/a/b/c", "grant/a/b/c/d"] { tree.directory(dir) }
        tree.file("grant/a/b/c/d/deep.txt")
        func inode(_ relative: String) -> ino_t {
            var info = stat()
            return Glibc.lstat(tree.path(relative), &info) == 0 ? info.st_ino : 0
        }
        func status(_ path: String, followFinal: Bool = true) throws -> Result<stat, SandboxError>? {
            try sandbox.resolve(path, followFinal: followFinal).get().status
        }
        #expect(try status("/work/sub/inner.txt")?.get().st_ino == inode("grant/sub/inner.txt"))
        #expect(try status("a/b/c/d/deep.txt")?.get().st_ino == inode("grant/a/b/c/d/deep.txt"))
        #expect(try status("/work/to-sub/to-inner")?.get().st_ino == inode("grant/sub/inner.txt"))
        let link = try #require(try status("/work/to-sub/to-inner", followFinal: false)?.get())
        #expect(link.st_mode & S_IFMT == S_IFLNK && link.st_ino == inode("grant/sub/to-inner"))
        #expect(try (status("/work/absolute", followFinal: false)?.get().st_mode ?? 0) & S_IFMT == S_IFLNK)
        guard case .failure(let missing)? = try status("/work/a/b/missing.txt") else {
            Issue.record("a missing name has no ENOENT status")
            return
        }
        #expect(missing.errno == Errno.ENOENT)
        // Through a link on the way (the walk), and below a missing directory (an error).
        #expect(sandbox.resolve("/work/to-sub/inner.txt").guestPath == "/work/sub/inner.txt")
        #expect(sandbox.resolve("/work/a/missing/deep.txt").errno == Errno.ENOENT)
        #expect(sandbox.resolve("/work/a/b/c/d/deep.txt/x").errno == Errno.ENOTDIR)
        // A link before the name the host walk cannot find: the link decides, not the error.
        tree.link("grant/to-a", to: "a")
        tree.link("grant/a/to-root", to: "/work")
        tree.link("grant/dangling", to: "nowhere")
        #expect(try status("/work/to-a/b/c/d/deep.txt")?.get().st_ino == inode("grant/a/b/c/d/deep.txt"))
        #expect(sandbox.resolve("/work/a/to-root/a/b/c/d/deep.txt").guestPath == "/work/a/b/c/d/deep.txt")
        #expect(sandbox.resolve("/work/to-a/missing/deep.txt").errno == Errno.ENOENT)
        #expect(sandbox.resolve("/work/dangling/x").errno == Errno.ENOENT)
        #expect(sandbox.resolve("/work/to-a/b/c/d/deep.txt/x").errno == Errno.ENOTDIR)
    }

    @Test func symlinkLoopsFailWithELOOP() throws {
        let (tree, sandbox) = try Self.standard()
        tree.link("grant/self", to: "self")
        tree.link("grant/loop1", to: "loop2")
        tree.link("grant/loop2", to: "/work/loop1")
        #expect(sandbox.resolve("/work/self").errno == Errno.ELOOP)
        #expect(sandbox.resolve("/work/loop1/x").errno == Errno.ELOOP)
        #expect(sandbox.resolve("/work/self", followFinal: false).guestPath == "/work/self")
    }

    @Test func pathErrors() throws {
        let (tree, sandbox) = try Self.standard()
        _ = tree
        #expect(sandbox.resolve("/work/file.txt/x").errno == Errno.ENOTDIR)
        #expect(sandbox.resolve("/work/file.txt/").errno == Errno.ENOTDIR)
        #expect(sandbox.resolve("/work/missing/x").errno == Errno.ENOENT)
        #expect(sandbox.resolve("").errno == Errno.ENOENT)
        #expect(sandbox.resolve("/work/" + String(repeating: "a", count: 256)).errno == Errno.ENAMETOOLONG)
        #expect(sandbox.resolve(String(repeating: "/a", count: 2048)).errno == Errno.ENAMETOOLONG)
        // A missing last component resolves (the caller may create it).
        let created = try sandbox.resolve("/work/new.txt").get()
        #expect(created.target == .host(tree.path("grant/new.txt"), writable: true, grant: 0))
        #expect(try sandbox.resolve("/work/newdir/").get().requiresDirectory)
    }

    @Test func parentsOfGrantsAreVirtualDirectories() throws {
        let (tree, sandbox) = try Self.standard()
        _ = tree
        #expect(sandbox.resolve("/").target == .virtualDirectory(["dev", "proc", "ro", "work"]))
        #expect(sandbox.resolve("/proc").target == .virtualDirectory(["cpuinfo", "self", "thread-self"]))
        #expect(sandbox.resolve("/dev/../work/..").target == .virtualDirectory(["dev", "proc", "ro", "work"]))
        // Nothing but mount points exists in a virtual directory.
        #expect(sandbox.resolve("/newfile").errno == Errno.ENOENT)
        #expect(sandbox.isMountPoint("/work"))
        #expect(sandbox.isMountPoint("/"))
        #expect(!sandbox.isMountPoint("/work/sub"))
    }

    @Test func nestedGrantsShowThroughTheirParents() throws {
        let tree = try HostTree()
        for dir in ["base", "deep", "base/sub"] { tree.directory(dir) }
        tree.file("base/mnt")  // a file where a deeper grant's parent must be
        tree.link("base/sub/x", to: "/etc")  // a symlink where a deeper grant lies
        let sandbox = Sandbox(
            grants: [
                DirectoryGrant(hostPath: tree.path("base"), guestPath: "/", writable: true),
                DirectoryGrant(hostPath: tree.path("deep"), guestPath: "/mnt/deep", writable: true),
                DirectoryGrant(hostPath: tree.path("deep"), guestPath: "/sub/x/y", writable: false),
            ],
            hostFilesystem: false, workingDirectory: "/")
        // base/mnt is a file, but /mnt leads to a grant: it is a virtual directory.
        #expect(sandbox.resolve("/mnt").target == .virtualDirectory(["deep"]))
        #expect(sandbox.resolve("/mnt/deep").target == .host(tree.path("deep"), writable: true, grant: 1))
        // /sub is a real directory of the grant at /; /sub/x is virtual, not the host symlink.
        #expect(sandbox.resolve("/sub").target == .host(tree.path("base/sub"), writable: true, grant: 0))
        #expect(sandbox.resolve("/sub/x").target == .virtualDirectory(["y"]))
        #expect(sandbox.resolve("/sub/x/passwd").errno == Errno.ENOENT)
        #expect(sandbox.resolve("/sub/x/y").target == .host(tree.path("deep"), writable: false, grant: 2))
        #expect(sandbox.children(["sub"]) == ["x"])
        // The root lists grants and emulated directories besides the host's entries.
        #expect(sandbox.children([]) == ["dev", "mnt", "proc", "sub"])
    }

    @Test func overlaysPreferTheFirstLayerThatHasAPath() throws {
        let tree = try HostTree()
        for dir in ["lower", "upper", "lower/lib", "upper/lib", "upper/tmp"] { tree.directory(dir) }
        tree.file("lower/lib/libc.so")
        tree.file("upper/lib/libc.so")
        tree.file("upper/lib/only-upper")
        let sandbox = Sandbox(
            grants: [
                DirectoryGrant(hostPath: tree.path("lower"), guestPath: "/", writable: false),
                DirectoryGrant(hostPath: tree.path("upper"), guestPath: "/", writable: true),
            ],
            hostFilesystem: false, workingDirectory: "/")
        #expect(sandbox.resolve("/lib/libc.so").target == .host(tree.path("lower/lib/libc.so"), writable: false, grant: 0))
        #expect(sandbox.resolve("/lib/only-upper").target == .host(tree.path("upper/lib/only-upper"), writable: true, grant: 1))
        #expect(sandbox.resolve("/tmp").target == .host(tree.path("upper/tmp"), writable: true, grant: 1))
        // A new name goes where its parent exists, a writable layer first.
        #expect(sandbox.resolve("/tmp/new").target == .host(tree.path("upper/tmp/new"), writable: true, grant: 1))
        #expect(sandbox.resolve("/lib/new").target == .host(tree.path("upper/lib/new"), writable: true, grant: 1))
        #expect(sandbox.hostLayers(["lib"]) == [tree.path("lower/lib"), tree.path("upper/lib")])
    }

    @Test func emulatedFilesExistWithoutGrants() throws {
        let sandbox = Sandbox(grants: [], hostFilesystem: false, workingDirectory: "/")
        #expect(sandbox.resolve("/").target == .virtualDirectory(["dev", "proc"]))
        #expect(sandbox.resolve("/proc/self/exe").target == .emulated(.executableLink))
        #expect(sandbox.resolve("/proc/\(getpid())/maps").target == .emulated(.generated(.maps)))
        #expect(sandbox.resolve("/proc/self/fd/3").target == .emulated(.descriptorLink(3)))
        #expect(sandbox.resolve("/proc/self/fd/03").errno == Errno.ENOENT)
        #expect(sandbox.resolve("/dev/null").target == .emulated(.device("/dev/null")))
        #expect(sandbox.resolve("/dev/tty").target == .emulated(.terminal))
        #expect(sandbox.resolve("/dev/sda").errno == Errno.ENOENT)
        #expect(sandbox.resolve("/proc/1/environ").errno == Errno.ENOENT)
        // /dev/stdout is an ordinary link to /proc/self/fd/1.
        #expect(sandbox.resolve("/dev/stdout").target == .emulated(.descriptorLink(1)))
        #expect(sandbox.resolve("/proc/self/cwd/..").guestPath == "/")
        // Magic links in the middle of a path need someone to say where they lead.
        #expect(sandbox.resolve("/proc/self/exe/x").errno == Errno.ENOENT)
        #expect(sandbox.resolve("/proc/self/fd/4/x", magicLinks: { _ in "/dev" }).errno == Errno.ENOENT)
        #expect(sandbox.resolve("/proc/self/fd/4/null", magicLinks: { _ in "/dev" }).target == .emulated(.device("/dev/null")))
    }

    @Test func hostFilesystemStillEmulatesProcSelf() throws {
        let sandbox = Sandbox(grants: [], hostFilesystem: true, workingDirectory: "/")
        #expect(sandbox.resolve("/proc/self/maps").target == .emulated(.generated(.maps)))
        #expect(sandbox.resolve("/proc/self").target == .virtualDirectory(["cmdline", "cwd", "environ", "exe", "fd", "maps", "task"]))
        #expect(sandbox.resolve("/proc/self/status").errno == Errno.ENOENT)
        #expect(sandbox.resolve("/tmp").target == .host("/tmp", writable: true, grant: 0))
    }

    @Test func grantRootsAreCanonical() throws {
        let tree = try HostTree()
        tree.directory("real")
        tree.file("real/f")
        tree.link("alias", to: "real")
        let sandbox = Sandbox(
            grants: [DirectoryGrant(hostPath: tree.path("alias"), guestPath: "/g", writable: true)],
            hostFilesystem: false, workingDirectory: "/")
        #expect(sandbox.grants[0].hostPath == tree.path("real"))
        #expect(sandbox.resolve("/g/f").target == .host(tree.path("real/f"), writable: true, grant: 0))
        #expect(sandbox.guestPath(forHost: tree.path("real/f")) == "/g/f")
        #expect(sandbox.guestPath(forHost: tree.path("elsewhere")) == nil)
        #expect(sandbox.holdsGrantRoot(tree.path("real")))
        #expect(sandbox.holdsGrantRoot(tree.root))
        #expect(!sandbox.holdsGrantRoot(tree.path("real/f")))
    }

    /// A directory swapped for a symlink after resolution cannot lead out: host calls refuse
    /// symlinks in every component.
    @Test func swappedDirectoriesDoNotEscape() throws {
        let (tree, sandbox) = try Self.standard()
        let resolved = try sandbox.resolve("/work/sub/inner.txt").get()
        guard case .host(let hostPath, _, _) = resolved.target else {
            Issue.record("not a host path")
            return
        }
        rename(tree.path("grant/sub"), tree.path("grant/moved"))
        tree.file("outside/inner.txt", "secret")
        tree.link("grant/sub", to: tree.path("outside"))
        #expect(HostFileSystem.open(hostPath, O_RDONLY) == -ELOOP)
        if case .failure(let error) = HostFileSystem.lstat(hostPath) {
            #expect(error.errno == Errno.ELOOP)
        } else {
            Issue.record("lstat followed a swapped-in symlink")
        }
        // Resolving again follows the new link in guest terms.
        #expect(sandbox.resolve("/work/sub/inner.txt").errno == Errno.ENOENT)
        // A grant's host root swapped for a symlink is followed in guest terms, if at all.
        rename(tree.path("ro"), tree.path("ro-moved"))
        tree.link("ro", to: tree.path("outside"))
        #expect(sandbox.resolve("/ro/secret.txt").errno == Errno.ENOENT)
        #expect(HostFileSystem.open(tree.path("ro/secret.txt"), O_RDONLY) == -ELOOP)
    }

    @Test func hostFileSystemOpensOnlyRealPaths() throws {
        let tree = try HostTree()
        tree.directory("d")
        tree.file("d/f", "data")
        tree.link("l", to: "d")
        tree.link("d/fl", to: "f")
        let fd = HostFileSystem.open(tree.path("d/f"), O_RDONLY)
        #expect(fd >= 0)
        close(fd)
        #expect(HostFileSystem.open(tree.path("l/f"), O_RDONLY) == -ELOOP)
        // The same without openat2.
        let walked = HostFileSystem.openWalking(tree.path("d/f"), O_RDONLY)
        #expect(walked >= 0)
        close(walked)
        #expect(HostFileSystem.openWalking(tree.path("l/f"), O_RDONLY) == -ELOOP)
        #expect(HostFileSystem.openWalking(tree.path("d/fl"), O_RDONLY) == -ELOOP)
        #expect(HostFileSystem.openWalking(tree.path("d/missing"), O_RDONLY) == -ENOENT)
        #expect(HostFileSystem.open(tree.path("d/fl"), O_RDONLY) == -ELOOP)
        let link = HostFileSystem.open(tree.path("d/fl"), HostFileSystem.pathOnly | O_NOFOLLOW)
        #expect(link >= 0)
        close(link)
        #expect(try HostFileSystem.readLink(tree.path("d/fl")).get() == Array("f".utf8))
    }
}
