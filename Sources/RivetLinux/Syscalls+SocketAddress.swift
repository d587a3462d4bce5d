#if canImport(Glibc)
import Glibc
#endif
import RivetMachine

/// Socket addresses between guest and host. Only Unix-domain paths change: a guest path is
/// resolved in the sandbox; what the host reports back is made a guest path again.
extension LinuxProcess {
    /// What a guest address is for.
    enum AddressUse {
        /// bind: a new name, in a writable grant.
        case bind
        /// connect, sendto, sendmsg: an existing socket file, inside the grants.
        case reach
    }

    /// Runs `body` with the host's form of the guest socket address at `address` (`length`
    /// bytes), and for a bind to a Unix-domain path, the name to remember once bound.
    ///
    /// Every address needs the network grant. A Unix-domain path is resolved as open(2)
    /// resolves guest paths: a bind must create a new name in a writable grant (EADDRINUSE if
    /// it exists, EROFS in a read-only grant) and is made as `/proc/self/fd/D/NAME` with D the
    /// parent directory opened without following symlinks; a connect must name a socket
    /// (ECONNREFUSED otherwise), opened with O_PATH and reached as `/proc/self/fd/F`, so that
    /// nothing swapped in after the check can lead outside the grants. Abstract and unnamed
    /// Unix addresses, and all others, pass unchanged.
    func withHostAddress<R>(
        _ address: UInt64, length: UInt64, for use: AddressUse, _ body: (UnsafeRawBufferPointer, UnixName?) -> R
    ) throws(SandboxError) -> R {
        try requireNetwork(use == .bind ? "bind" : "connecting or sending to an address")
        let length = Int32(truncatingIfNeeded: length)  // int addrlen
        guard length >= 0, length <= SocketABI.maxAddress else { throw .einval }
        let bytes: [UInt8]
        do { bytes = try memory.read(at: address, size: Int(length)) } catch { throw .efault }
        let family = bytes.count >= 2 ? UInt16(bytes[0]) | UInt16(bytes[1]) << 8 : 0
        guard bytes.count > 2, family == UInt16(SocketABI.unix), bytes[2] != 0 else {
            return bytes.withUnsafeBytes { body($0, nil) }
        }
        let pathBytes = Array(bytes[2...].prefix { $0 != 0 })
        guard let path = String(validating: pathBytes, as: UTF8.self) else { throw .enoent }
        switch use {
        case .bind:
            let name = try bindingName(path, pathBytes)
            return Self.unixAddress(name.hostPath).withUnsafeBytes { body($0, name) }
        case .reach:
            let socketFile = try openSocketFile(path)
            defer { Glibc.close(socketFile) }
            return Self.unixAddress(Array("/proc/self/fd/\(socketFile)".utf8)).withUnsafeBytes { body($0, nil) }
        }
    }

    /// A `struct sockaddr_un` as Linux reports a bound path: family, path, NUL.
    static func unixAddress(_ path: [UInt8]) -> [UInt8] {
        [UInt8(SocketABI.unix), 0] + path + [0]
    }

    /// The name a bind to the guest path `path` makes.
    private func bindingName(_ path: String, _ pathBytes: [UInt8]) throws(SandboxError) -> UnixName {
        let resolution = try resolve(path, atFDCWD, followFinal: false)
        guard case .host(let hostPath, let writable, _) = resolution.target else { throw SandboxError(Errno.EADDRINUSE) }
        switch HostFileSystem.lstat(hostPath) {
        case .success: throw SandboxError(Errno.EADDRINUSE)
        case .failure(let error) where error.errno != Errno.ENOENT: throw error
        case .failure: break
        }
        guard writable else { throw .erofs }
        var parts = Sandbox.components(hostPath)
        guard let last = parts.popLast() else { throw SandboxError(Errno.EADDRINUSE) }
        let directory = try hostCheck(HostFileSystem.open("/" + parts.joined(separator: "/"), HostFileSystem.pathOnly | O_DIRECTORY))
        let hostName = Array("/proc/self/fd/\(directory)/\(last)".utf8)
        guard hostName.count < 108 else {
            Glibc.close(directory)
            throw SandboxError(Errno.ENAMETOOLONG)
        }
        return UnixName(guestAddress: Self.unixAddress(pathBytes), hostPath: hostName, directory: directory)
    }

    /// An O_PATH descriptor for the socket file at the guest path `path`.
    private func openSocketFile(_ path: String) throws(SandboxError) -> Int32 {
        let resolution = try resolve(path, atFDCWD, followFinal: true)
        guard case .host(let hostPath, _, _) = resolution.target else { throw SandboxError(Errno.ECONNREFUSED) }
        let fd = try hostCheck(HostFileSystem.open(hostPath, HostFileSystem.pathOnly | O_NOFOLLOW))
        var info = stat()
        guard Glibc.fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK else {
            Glibc.close(fd)
            throw SandboxError(Errno.ECONNREFUSED)
        }
        return fd
    }

    /// The guest's form of a socket address the host reported: a Unix-domain name Rivet bound
    /// is the guest's path for it, a host path inside a grant is its guest path, and a host
    /// path outside the guest's view is hidden (an unnamed address).
    func guestAddress(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.count > 2, bytes[0] == UInt8(SocketABI.unix), bytes[1] == 0, bytes[2] != 0 else { return bytes }
        let path = Array(bytes[2...].prefix { $0 != 0 })
        for fd in files.descriptors {
            if let file = files[fd], case .socket(let state) = file.emulation, let name = state.name, name.hostPath == path {
                return name.guestAddress
            }
        }
        if path.first == UInt8(ascii: "/"), let text = String(validating: path, as: UTF8.self),
            let guest = filesystem.guestPath(forHost: text)
        {
            return Self.unixAddress(Array(guest.utf8))
        }
        return [UInt8(SocketABI.unix), 0]
    }

    /// The room the guest gave for an address (`*lengthAddress`), read before the call as
    /// Linux reads it: nil when `address` is null (no address wanted) unless `always`.
    func addressRoom(_ address: UInt64, _ lengthAddress: UInt64, always: Bool = false) throws(SandboxError) -> Int? {
        guard address != 0 || always else { return nil }
        let room: Int32
        do { room = try memory.load(Int32.self, at: lengthAddress) } catch { throw .efault }
        guard room >= 0 else { throw .einval }
        return Int(room)
    }

    /// Copies an address out as Linux does: as much as the room allows, and its full length.
    func storeAddress(_ bytes: [UInt8], at address: UInt64, room: Int, lengthAddress: UInt64) throws(SandboxError) {
        do {
            let count = min(room, bytes.count)
            if count > 0 { try memory.write(bytes.prefix(count), at: address) }
            try memory.store(Int32(bytes.count), at: lengthAddress)
        } catch { throw .efault }
    }
}
