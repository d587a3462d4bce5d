#if canImport(Glibc)
import Glibc
#endif
import RivetMachine

/// Directories: getdents64, getcwd, chdir, fchdir.
extension LinuxProcess {
    /// getdents64 from a listing taken at the first call after an open or rewind, so that the
    /// offsets (`d_off`, the entry's index + 1) stay valid for telldir and seekdir.
    func getdents(_ fd: Int32, _ address: UInt64, _ count: UInt64) throws(SandboxError) -> Int64 {
        let file = try ioFile(fd)
        guard file.isDirectory else { throw SandboxError(Errno.ENOTDIR) }
        let listing: [DirectoryListingEntry]
        if let existing = file.listing {
            listing = existing
        } else {
            listing = try directoryListing(file)
            file.listing = listing
        }
        let room = Int(min(count, 0x7fff_f000))
        var out: [UInt8] = []
        var index = file.position
        while index < listing.count {
            let entry = listing[index]
            let length = (19 + entry.name.count + 1 + 7) & ~7
            guard out.count + length <= room else { break }
            withUnsafeBytes(of: entry.inode.littleEndian) { out.append(contentsOf: $0) }
            withUnsafeBytes(of: Int64(index + 1).littleEndian) { out.append(contentsOf: $0) }
            withUnsafeBytes(of: UInt16(length).littleEndian) { out.append(contentsOf: $0) }
            out.append(entry.type)
            out.append(contentsOf: entry.name)
            out.append(contentsOf: repeatElement(0, count: length - 19 - entry.name.count))
            index += 1
        }
        if out.isEmpty && index < listing.count { throw .einval }
        do { try memory.write(out, at: address) } catch { throw .efault }
        file.position = index
        return Int64(out.count)
    }

    /// What a directory lists: a host directory's entries, then the other layers' of an
    /// overlay, then the mount points directly inside it (grants, emulated files) that the
    /// host does not have, with the type the guest sees them as.
    func directoryListing(_ file: OpenFile) throws(SandboxError) -> [DirectoryListingEntry] {
        let components = Sandbox.components(file.guestPath)
        var entries: [DirectoryListingEntry] = []
        switch file.backing {
        case .host(let fd, _):
            entries = try HostFileSystem.entries(fd).get()
            let layers = filesystem.hostLayers(components)
            if layers.count > 1 {
                var own = stat()
                Glibc.fstat(fd, &own)
                for layer in layers {
                    var info = stat()
                    guard case .success(let found) = HostFileSystem.lstat(layer) else { continue }
                    info = found
                    if info.st_dev == own.st_dev && info.st_ino == own.st_ino { continue }
                    let other = HostFileSystem.open(layer, O_RDONLY | O_DIRECTORY)
                    guard other >= 0 else { continue }
                    defer { Glibc.close(other) }
                    if case .success(let more) = HostFileSystem.entries(other) { merge(more, into: &entries) }
                }
            }
        case .virtualDirectory(let names):
            let parent = Sandbox.normalize(file.guestPath + "/..")
            let directory = DirectoryEntryType.directory
            entries = [
                DirectoryListingEntry(name: Array(".".utf8), inode: syntheticInode(file.guestPath), type: directory),
                DirectoryListingEntry(name: Array("..".utf8), inode: syntheticInode(parent), type: directory),
            ]
            for name in names {
                entries.append(
                    DirectoryListingEntry(
                        name: Array(name.utf8), inode: syntheticInode(join(file.guestPath, name)),
                        type: entryType(components + [name])))
            }
        case .memory:
            throw SandboxError(Errno.ENOTDIR)
        }
        // Mount points inside: added if missing, and shown with the type they have in the guest.
        for name in filesystem.children(components) {
            let type = entryType(components + [name])
            if let index = entries.firstIndex(where: { $0.name == Array(name.utf8) }) {
                entries[index].type = type
            } else {
                entries.append(
                    DirectoryListingEntry(name: Array(name.utf8), inode: syntheticInode(join(file.guestPath, name)), type: type))
            }
        }
        return entries
    }

    private func merge(_ more: [DirectoryListingEntry], into entries: inout [DirectoryListingEntry]) {
        var seen = Set(entries.map(\.name))
        for entry in more where seen.insert(entry.name).inserted { entries.append(entry) }
    }

    private func join(_ directory: String, _ name: String) -> String {
        directory == "/" ? "/" + name : directory + "/" + name
    }

    /// The `DT_*` type of the guest path `components`, as the guest sees it.
    private func entryType(_ components: [String]) -> UInt8 {
        switch filesystem.map(components) {
        case .host(let path, _, _)?:
            if case .success(let info) = HostFileSystem.lstat(path) { return DirectoryEntryType.of(mode: info.st_mode) }
            return DirectoryEntryType.unknown
        case .virtualDirectory?: return DirectoryEntryType.directory
        case .emulated(let file)?: return file.directoryEntryType
        case nil: return DirectoryEntryType.unknown
        }
    }

    // MARK: Working directory

    /// getcwd: the guest path of the working directory.
    func getcwd(_ address: UInt64, _ size: UInt64) throws(SandboxError) -> Int64 {
        let bytes = Array(filesystem.workingDirectory.utf8) + [0]
        guard UInt64(bytes.count) <= size else { throw SandboxError(Errno.ERANGE) }
        do { try memory.write(bytes, at: address) } catch { throw .efault }
        return Int64(bytes.count)
    }

    func chdir(_ address: UInt64) throws(SandboxError) -> Int64 {
        let resolution = try resolvePath(atFDCWD, address, followFinal: true)
        switch resolution.target {
        case .host(let path, _, _):
            let info = try HostFileSystem.lstat(path).get()
            guard info.st_mode & S_IFMT == S_IFDIR else { throw SandboxError(Errno.ENOTDIR) }
            _ = try hostCheck(HostFileSystem.inParent(path) { faccessat($0, $1, X_OK, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno })
        case .virtualDirectory:
            break
        case .emulated(let file):
            if case .descriptorLink(let fd) = file {
                guard let target = files[fd] else { throw .enoent }
                guard target.isDirectory else { throw SandboxError(Errno.ENOTDIR) }
                filesystem.workingDirectory = target.guestPath
                return 0
            }
            guard file.isDirectory else { throw SandboxError(Errno.ENOTDIR) }
        }
        filesystem.workingDirectory = resolution.guestPath
        return 0
    }

    func fchdir(_ fd: Int32) throws(SandboxError) -> Int64 {
        let file = try file(fd)
        guard file.isDirectory else { throw SandboxError(Errno.ENOTDIR) }
        filesystem.workingDirectory = file.guestPath
        return 0
    }
}
