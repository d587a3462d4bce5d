#if canImport(Glibc)
import Glibc
#endif
import RivetMachine

/// openat: resolve in the sandbox, check the grant allows the access, open on the host.
extension LinuxProcess {
    /// What an open asks for, decoded from its flags.
    struct OpenRequest {
        var flags: Int32
        var mode: UInt32
        var pathOnly: Bool
        var temporaryFile: Bool
        var creates: Bool
        var exclusive: Bool
        var reads: Bool
        var writes: Bool
        var follows: Bool

        init(flags: Int32, mode: UInt32) {
            pathOnly = flags & FileABI.path != 0
            // O_PATH ignores every flag but these.
            self.flags = pathOnly ? flags & (FileABI.path | FileABI.directory | FileABI.noFollow | FileABI.closeOnExec) : flags
            self.mode = mode
            temporaryFile = !pathOnly && flags & FileABI.temporaryFile == FileABI.temporaryFile
            creates = !pathOnly && !temporaryFile && flags & FileABI.create != 0
            exclusive = creates && flags & FileABI.exclusive != 0
            let access = flags & FileABI.accessMode
            reads = !pathOnly && access != FileABI.writeOnly
            writes = !pathOnly && (access != FileABI.readOnly || flags & FileABI.truncate != 0 || temporaryFile)
            // O_CREAT | O_EXCL never follows a symlink in the last component (EEXIST).
            follows = flags & FileABI.noFollow == 0 && !exclusive
        }

        /// The flags F_GETFL reports.
        var statusFlags: Int32 {
            flags & ~(FileABI.create | FileABI.exclusive | FileABI.noControllingTerminal | FileABI.truncate | FileABI.closeOnExec)
        }
    }

    func openat(_ dirfd: Int32, _ address: UInt64, _ flags: Int32, _ mode: UInt32) throws(SandboxError) -> Int64 {
        let request = OpenRequest(flags: flags, mode: mode)
        let resolution = try resolvePath(dirfd, address, followFinal: request.follows)
        let file = try open(resolution, request)
        file.isPathOnly = request.pathOnly
        guard let fd = files.insert(file, closeOnExec: flags & FileABI.closeOnExec != 0) else {
            throw SandboxError(Errno.EMFILE)
        }
        return Int64(fd)
    }

    /// Opens what `resolution` names.
    func open(_ resolution: Sandbox.Resolution, _ request: OpenRequest) throws(SandboxError) -> OpenFile {
        switch resolution.target {
        case .host(let path, let writable, let grant):
            return try openHost(path, writable: writable, grant: grant, resolution, request)
        case .virtualDirectory(let names):
            if request.exclusive { throw SandboxError(Errno.EEXIST) }
            if request.writes { throw SandboxError(Errno.EISDIR) }
            return OpenFile(
                backing: .virtualDirectory(names), guestPath: resolution.guestPath, writable: false,
                statusFlags: request.statusFlags)
        case .emulated(let file):
            return try openEmulated(file, resolution, request)
        }
    }

    private func openHost(_ path: String, writable: Bool, grant: Int, _ resolution: Sandbox.Resolution, _ request: OpenRequest)
        throws(SandboxError) -> OpenFile
    {
        switch HostFileSystem.lstat(path) {
        case .failure(let error):
            guard error.errno == Errno.ENOENT, request.creates else { throw error }
            if resolution.requiresDirectory { throw SandboxError(Errno.EISDIR) }
            guard writable else { throw .erofs }
        case .success(let info):
            if request.exclusive { throw SandboxError(Errno.EEXIST) }
            let type = info.st_mode & S_IFMT
            // Only a guest O_PATH | O_NOFOLLOW gets here with a symlink; anything else is ELOOP.
            if type == S_IFLNK && !request.pathOnly { throw SandboxError(Errno.ELOOP) }
            // A read-only grant allows writing only to FIFOs and sockets, which store nothing.
            if request.writes && !writable && type != S_IFIFO && type != S_IFSOCK {
                throw SandboxError(type == S_IFDIR ? Errno.EISDIR : Errno.EROFS)
            }
        }
        let hostFlags = (request.flags & ~FileABI.closeOnExec) | FileABI.noControllingTerminal
        let mode = creationMode(request.mode, directory: false)
        let fd = try hostCheck(HostFileSystem.open(path, hostFlags, mode: mode))
        var info = stat()
        Glibc.fstat(fd, &info)
        var guestPath = resolution.guestPath
        if request.temporaryFile { guestPath += "/#\(info.st_ino) (deleted)" }
        let file = OpenFile(
            backing: .host(fd, owned: true), guestPath: guestPath, writable: writable, statusFlags: request.statusFlags)
        file.isDirectory = info.st_mode & S_IFMT == S_IFDIR
        file.grant = grant
        return file
    }

    private func openEmulated(_ emulated: EmulatedFile, _ resolution: Sandbox.Resolution, _ request: OpenRequest)
        throws(SandboxError) -> OpenFile
    {
        if request.exclusive { throw SandboxError(Errno.EEXIST) }
        let guestPath = resolution.guestPath
        let wantsDirectory = request.flags & FileABI.directory != 0
        // A link in the last component that was not followed (O_NOFOLLOW).
        if emulated.isLink && !request.follows {
            guard request.pathOnly else { throw SandboxError(Errno.ELOOP) }
            return OpenFile(backing: .memory([]), guestPath: guestPath, writable: false)
        }
        switch emulated {
        case .device(let hostPath):
            if wantsDirectory { throw SandboxError(Errno.ENOTDIR) }
            let passed = FileABI.accessMode | FileABI.nonBlocking | FileABI.append
            let flags = request.pathOnly ? HostFileSystem.pathOnly : request.flags & passed
            let fd = try hostResult(Glibc.open(hostPath, flags | O_CLOEXEC | O_NOCTTY))
            return OpenFile(
                backing: .host(fd, owned: true), guestPath: guestPath, writable: true, statusFlags: request.statusFlags)
        case .terminal:
            guard request.pathOnly else { throw SandboxError(Errno.ENXIO) }
            return OpenFile(backing: .memory([]), guestPath: guestPath, writable: false)
        case .generated(let kind):
            if wantsDirectory { throw SandboxError(Errno.ENOTDIR) }
            if request.writes { throw SandboxError(Errno.EACCES) }
            let bytes = request.pathOnly ? [] : generatedContents(kind)
            return OpenFile(backing: .memory(bytes), guestPath: guestPath, writable: false, statusFlags: request.statusFlags)
        case .descriptorDirectory:
            if request.writes { throw SandboxError(Errno.EISDIR) }
            return OpenFile(
                backing: .virtualDirectory(files.descriptors.map { String($0) }), guestPath: guestPath, writable: false,
                statusFlags: request.statusFlags)
        case .executableLink:
            if wantsDirectory { throw SandboxError(Errno.ENOTDIR) }
            if request.writes { throw SandboxError(Errno.ETXTBSY) }
            let host = Sandbox.canonical(configuration.executablePath)
            let flags = request.pathOnly ? HostFileSystem.pathOnly : O_RDONLY
            let fd = try hostResult(Glibc.open(host, flags | O_CLOEXEC | O_NOCTTY))
            return OpenFile(
                backing: .host(fd, owned: true), guestPath: executableGuestPath, writable: false,
                statusFlags: request.statusFlags)
        case .descriptorLink(let number):
            guard let target = files[number] else { throw .enoent }
            return try reopen(target, request)
        case .memoryFile(let file):
            if wantsDirectory { throw SandboxError(Errno.ENOTDIR) }
            if request.writes && !file.writable { throw .erofs }
            let passed = FileABI.accessMode | FileABI.nonBlocking | FileABI.append | FileABI.truncate
            let fd = try hostResult(file.open(flags: request.pathOnly ? HostFileSystem.pathOnly : request.flags & passed))
            return OpenFile(
                backing: .host(fd, owned: true), guestPath: guestPath, writable: file.writable,
                statusFlags: request.statusFlags)
        case .link:
            throw SandboxError(Errno.ELOOP)  // followed by the sandbox; not reached
        }
    }

    /// Opens `/proc/self/fd/N`: a new open file description for what N refers to. The new
    /// access may not exceed the old one, except for files in writable grants (Linux checks
    /// only the file's permissions; here a read-only standard input must not become writable).
    private func reopen(_ target: OpenFile, _ request: OpenRequest) throws(SandboxError) -> OpenFile {
        if request.flags & FileABI.directory != 0 && !target.isDirectory { throw SandboxError(Errno.ENOTDIR) }
        switch target.backing {
        case .host(let host, _):
            if !request.pathOnly {
                let access = Glibc.fcntl(host, F_GETFL) & FileABI.accessMode
                let couldRead = target.isPathOnly || access != FileABI.writeOnly
                let couldWrite = (target.isPathOnly || access != FileABI.readOnly) || target.grant != nil
                if request.reads && !couldRead { throw SandboxError(Errno.EACCES) }
                if request.writes && (!couldWrite || !target.writable) { throw SandboxError(Errno.EACCES) }
            }
            let flags =
                request.flags & ~(FileABI.create | FileABI.exclusive | FileABI.closeOnExec | FileABI.noFollow)
                | FileABI.noControllingTerminal
            let fd = try hostResult(Glibc.open("/proc/self/fd/\(host)", flags | O_CLOEXEC))
            let file = OpenFile(
                backing: .host(fd, owned: true), guestPath: target.guestPath, writable: target.writable,
                statusFlags: request.statusFlags)
            file.isDirectory = target.isDirectory
            file.grant = target.grant
            return file
        case .memory(let bytes):
            if request.writes { throw SandboxError(Errno.EACCES) }
            return OpenFile(
                backing: .memory(bytes), guestPath: target.guestPath, writable: false, statusFlags: request.statusFlags)
        case .virtualDirectory(let names):
            if request.writes { throw SandboxError(Errno.EISDIR) }
            return OpenFile(
                backing: .virtualDirectory(names), guestPath: target.guestPath, writable: false, statusFlags: request.statusFlags)
        }
    }
}
