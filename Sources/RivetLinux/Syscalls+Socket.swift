#if canImport(Glibc)
import Glibc
#endif
import RivetMachine

/// Sockets, behind the network grant (`LinuxConfiguration.network`, `--net`).
///
/// Without the grant, socket(2) fails with EACCES (one warning), and so does every call that
/// names an address (bind, connect, sendto or sendmsg with one): the only sockets a guest can
/// have are socketpair(AF_UNIX)'s, which reach nothing outside it, like a pipe. With the grant,
/// AF_UNIX, AF_INET and AF_INET6 sockets are the host's; other families fail with EAFNOSUPPORT.
/// Unix-domain paths are guest paths, resolved in the sandbox as open(2) resolves them: a guest
/// binds only in writable grants and connects only to sockets inside its grants. Abstract
/// names (a leading NUL) are the host's, with the grant.
///
/// The structures (`sockaddr_*`, `msghdr`, `cmsghdr`, `linger`, `timeval` options) and the
/// SOL_SOCKET option numbers are the same on riscv64 and x86-64, so they pass unchanged; what
/// is translated is descriptors (`Syscalls+SocketMessage.swift`) and Unix-domain paths
/// (`Syscalls+SocketAddress.swift`).
extension LinuxProcess {
    func socketSyscall(_ number: Int, _ args: SyscallArguments, _ hart: HartState) -> SyscallResult? {
        switch number {
        case 198: return perform { try socket(args.int(0), args.int(1), args.int(2)) }
        case 199: return perform { try socketPair(args.int(0), args.int(1), args.int(2), args[3]) }
        case 200: return perform { try bind(args.int(0), args[1], args[2]) }
        case 201: return perform { try hostCheck(Int64(HostIO.listen(try socketDescriptor(args.int(0)).host, backlog: args.int(1)))) }
        case 202: return perform { try accept(args.int(0), args[1], args[2], flags: 0) }
        case 242: return perform { try accept(args.int(0), args[1], args[2], flags: args.int(3)) }
        case 203: return perform { try connect(args.int(0), args[1], args[2], hart) }
        case 204: return perform { try socketName(args.int(0), args[1], args[2], peer: false) }
        case 205: return perform { try socketName(args.int(0), args[1], args[2], peer: true) }
        case 206: return perform { try sendTo(args) }
        case 207: return perform { try receiveFrom(args) }
        case 208: return perform { try setSocketOption(args) }
        case 209: return perform { try getSocketOption(args) }
        case 210: return perform { try hostCheck(Int64(HostIO.shutdown(try socketDescriptor(args.int(0)).host, args.int(1)))) }
        case 211: return perform { try sendMessage(args.int(0), args[1], flags: args.int(2)) }
        case 212: return perform { try receiveMessage(args.int(0), args[1], flags: args.int(2)) }
        case 269: return perform { try sendMessages(args) }
        case 243: return perform { try receiveMessages(args) }
        default: return nil
        }
    }

    /// Socket ABI values (asm-generic; the same on x86-64).
    enum SocketABI {
        static let unix: Int32 = 1
        static let inet: Int32 = 2
        static let inet6: Int32 = 10
        static let typeMask: Int32 = 0xf
        /// SOCK_NONBLOCK and SOCK_CLOEXEC are O_NONBLOCK and O_CLOEXEC.
        static let typeFlags = FileABI.nonBlocking | FileABI.closeOnExec
        static let socketLevel: Int32 = 1  // SOL_SOCKET
        static let rights: Int32 = 1  // SCM_RIGHTS
        static let noSignal: Int32 = 0x4000  // MSG_NOSIGNAL
        static let dontWait: Int32 = 0x40  // MSG_DONTWAIT
        static let waitForOne: Int32 = 0x10000  // MSG_WAITFORONE
        static let controlTruncated: Int32 = 0x8  // MSG_CTRUNC
        static let controlCloseOnExec: Int32 = 0x4000_0000  // MSG_CMSG_CLOEXEC
        /// sizeof(struct sockaddr_storage): the longest address.
        static let maxAddress = 128
    }

    /// Refuses what needs the network grant: EACCES, with one warning for the whole run.
    func requireNetwork(_ what: String) throws(SandboxError) {
        guard configuration.network else {
            warnOnce("network", "\(what) needs the network grant (--net, Configuration.network); returning -EACCES")
            throw SandboxError(Errno.EACCES)
        }
    }

    /// The open file `fd` and its host descriptor, for a socket call: EBADF, or ENOTSOCK for a
    /// file Rivet makes up (the host says ENOTSOCK for other files that are not sockets).
    func socketDescriptor(_ fd: Int32) throws(SandboxError) -> (file: OpenFile, host: Int32) {
        let file = try ioFile(fd)
        guard let host = file.hostDescriptor else { throw SandboxError(Errno.ENOTSOCK) }
        return (file, host)
    }

    /// The state Rivet keeps for a socket, made for sockets that came from elsewhere (SCM_RIGHTS).
    func socketState(_ file: OpenFile) -> SocketState {
        if case .socket(let state) = file.emulation { return state }
        let state = SocketState()
        file.emulation = .socket(state)
        return state
    }

    /// Installs a new host socket as a guest descriptor, named `socket:[inode]` as /proc shows it.
    func installSocket(_ host: Int32, flags: Int32, state: SocketState) throws(SandboxError) -> Int64 {
        var info = stat()
        Glibc.fstat(host, &info)
        return try install(host, "socket:[\(info.st_ino)]", flags: flags, emulation: .socket(state))
    }

    // MARK: Making sockets

    private func socket(_ domain: Int32, _ type: Int32, _ protocolNumber: Int32) throws(SandboxError) -> Int64 {
        try requireNetwork("socket(\(Self.familyName(domain)))")
        try checkArguments(domain, type, "socket")
        let host = try hostCheck(HostIO.socket(domain, type & ~FileABI.closeOnExec, protocolNumber))
        return try installSocket(Int32(host), flags: type, state: SocketState())
    }

    /// socketpair: AF_UNIX pairs need no grant (they reach nothing but each other).
    private func socketPair(_ domain: Int32, _ type: Int32, _ protocolNumber: Int32, _ address: UInt64) throws(SandboxError)
        -> Int64
    {
        if domain != SocketABI.unix { try requireNetwork("socketpair(\(Self.familyName(domain)))") }
        try checkArguments(domain, type, "socketpair")
        let (a, b) = try HostIO.socketPair(domain, type & ~FileABI.closeOnExec, protocolNumber).get()
        let first: Int64
        do { first = try installSocket(a, flags: type, state: SocketState()) } catch {
            Glibc.close(b)
            throw error
        }
        let second: Int64
        do { second = try installSocket(b, flags: type, state: SocketState()) } catch {
            files.remove(Int32(first))
            throw error
        }
        do {
            try memory.store(Int32(first), at: address)
            try memory.store(Int32(second), at: address &+ 4)
        } catch {
            files.remove(Int32(first))
            files.remove(Int32(second))
            throw .efault
        }
        return 0
    }

    /// The checks socket(2) makes, in Linux's order: flags (EINVAL), a family out of range
    /// (EAFNOSUPPORT), a type out of range (EINVAL); then the family must be one Rivet supports,
    /// AF_UNIX, AF_INET or AF_INET6 (EAFNOSUPPORT and a warning otherwise).
    private func checkArguments(_ domain: Int32, _ type: Int32, _ call: String) throws(SandboxError) {
        let familyCount: Int32 = 46  // AF_MAX
        let typeCount: Int32 = 11  // SOCK_MAX
        guard type & ~(SocketABI.typeMask | SocketABI.typeFlags) == 0 else { throw .einval }
        guard domain >= 0, domain < familyCount else { throw SandboxError(Errno.EAFNOSUPPORT) }
        guard type & SocketABI.typeMask < typeCount else { throw .einval }
        guard domain == SocketABI.unix || domain == SocketABI.inet || domain == SocketABI.inet6 else {
            warnOnce(
                "socket family \(domain)",
                "\(call): address family \(Self.familyName(domain)) is not supported; returning -EAFNOSUPPORT")
            throw SandboxError(Errno.EAFNOSUPPORT)
        }
    }

    static func familyName(_ domain: Int32) -> String {
        let names: [Int32: String] = [
            1: "AF_UNIX", 2: "AF_INET", 10: "AF_INET6", 16: "AF_NETLINK", 17: "AF_PACKET", 4: "AF_IPX", 5: "AF_APPLETALK",
            9: "AF_X25", 15: "AF_KEY", 29: "AF_CAN", 30: "AF_TIPC", 31: "AF_BLUETOOTH", 38: "AF_ALG", 40: "AF_VSOCK",
            44: "AF_XDP",
        ]
        return names[domain] ?? String(domain)
    }

    // MARK: Names and connections

    private func bind(_ fd: Int32, _ address: UInt64, _ length: UInt64) throws(SandboxError) -> Int64 {
        let (file, host) = try socketDescriptor(fd)
        let (result, name) = try withHostAddress(address, length: length, for: .bind) { (HostIO.bind(host, $0), $1) }
        _ = try hostCheck(result)
        if let name { socketState(file).name = name }
        return 0
    }

    /// connect: a blocking connect interrupted by a signal the guest does not see goes on
    /// waiting for the connection (calling the host's connect again would say EALREADY).
    private func connect(_ fd: Int32, _ address: UInt64, _ length: UInt64, _ hart: HartState) throws(SandboxError) -> Int64 {
        let (_, host) = try socketDescriptor(fd)
        let result = try withHostAddress(address, length: length, for: .reach) { address, _ in blocking(startsAnyway: true) { HostIO.connect(host, address) } }
        guard result == -Int(EINTR) else { return Int64(try hostCheck(result)) }
        while true {
            if mustInterrupt(hart) { throw SandboxError(Errno.EINTR) }
            let n = blocking { HostIO.wait(host, for: Int16(POLLOUT)) }
            if n == -Int(EINTR) { continue }
            _ = try hostCheck(n)
            let error = try hostCheck(HostIO.pendingError(host))
            guard error == 0 else { throw SandboxError(Int64(error)) }
            return 0
        }
    }

    private func accept(_ fd: Int32, _ address: UInt64, _ lengthAddress: UInt64, flags: Int32) throws(SandboxError) -> Int64 {
        guard flags & ~SocketABI.typeFlags == 0 else { throw .einval }
        let (file, host) = try socketDescriptor(fd)
        // Linux takes the descriptor first: with none free, the connection stays queued.
        guard files.hasFreeDescriptor else { throw SandboxError(Errno.EMFILE) }
        var peer = [UInt8](repeating: 0, count: SocketABI.maxAddress)
        var peerLength = UInt32(SocketABI.maxAddress)
        let accepted = peer.withUnsafeMutableBytes { raw in
            blocking { HostIO.accept(host, raw.baseAddress!, &peerLength, flags: flags & FileABI.nonBlocking) }
        }
        let newFD = try installSocket(Int32(try hostCheck(accepted)), flags: flags, state: SocketState(name: socketState(file).name))
        // The address goes out last; if it cannot, the connection is dropped, as on Linux.
        do {
            if let room = try addressRoom(address, lengthAddress) {
                let bytes = guestAddress(Array(peer.prefix(Int(min(peerLength, UInt32(SocketABI.maxAddress))))))
                try storeAddress(bytes, at: address, room: room, lengthAddress: lengthAddress)
            }
        } catch {
            files.remove(Int32(newFD))
            throw error
        }
        return newFD
    }

    private func socketName(_ fd: Int32, _ address: UInt64, _ lengthAddress: UInt64, peer: Bool) throws(SandboxError) -> Int64 {
        let (_, host) = try socketDescriptor(fd)
        guard let room = try addressRoom(address, lengthAddress, always: true) else { throw .efault }
        var bytes = [UInt8](repeating: 0, count: SocketABI.maxAddress)
        var length = UInt32(SocketABI.maxAddress)
        _ = try hostCheck(bytes.withUnsafeMutableBytes { HostIO.name(host, peer: peer, $0.baseAddress!, &length) })
        let translated = guestAddress(Array(bytes.prefix(Int(min(length, UInt32(SocketABI.maxAddress))))))
        try storeAddress(translated, at: address, room: room, lengthAddress: lengthAddress)
        return 0
    }

    // MARK: Data

    private func sendTo(_ args: SyscallArguments) throws(SandboxError) -> Int64 {
        let (_, host) = try socketDescriptor(args.int(0))
        let data = try guestBuffer(args[1], args[2], access: .read)
        let flags = args.int(3)
        if args[4] != 0 {
            let result = try withHostAddress(args[4], length: args[5], for: .reach) { address, _ in
                blocking { HostIO.sendTo(host, UnsafeRawBufferPointer(data), flags: flags, address) }
            }
            return Int64(try hostCheck(result))
        }
        return Int64(try hostCheck(blocking { HostIO.sendTo(host, UnsafeRawBufferPointer(data), flags: flags, nil) }))
    }

    private func receiveFrom(_ args: SyscallArguments) throws(SandboxError) -> Int64 {
        let (_, host) = try socketDescriptor(args.int(0))
        let data = try guestBuffer(args[1], args[2], access: .write)
        let flags = args.int(3)
        guard let room = try addressRoom(args[4], args[5]) else {
            return Int64(try hostCheck(blocking { HostIO.receiveFrom(host, data, flags: flags, nil, nil) }))
        }
        var bytes = [UInt8](repeating: 0, count: SocketABI.maxAddress)
        var length = UInt32(SocketABI.maxAddress)
        let n = try hostCheck(bytes.withUnsafeMutableBytes { raw in blocking { HostIO.receiveFrom(host, data, flags: flags, raw.baseAddress!, &length) } })
        let translated = guestAddress(Array(bytes.prefix(Int(min(length, UInt32(SocketABI.maxAddress))))))
        try storeAddress(translated, at: args[4], room: room, lengthAddress: args[5])
        return Int64(n)
    }

    // MARK: Options

    /// Options whose values hold guest pointers or make descriptors, which Rivet does not
    /// translate: (level, name) pairs.
    private static let refusedOptions: Set<[Int32]> = [
        [1, 26], [1, 50], [1, 51], [1, 52],  // SO_ATTACH_FILTER, SO_ATTACH_BPF, SO_ATTACH_REUSEPORT_CBPF/EBPF
        [1, 77],  // SO_PEERPIDFD
        [6, 35],  // TCP_ZEROCOPY_RECEIVE
    ]

    private func checkOption(_ level: Int32, _ name: Int32, _ call: String) throws(SandboxError) {
        guard !Self.refusedOptions.contains([level, name]) else {
            warnOnce(
                "socket option \(level) \(name)",
                "\(call): socket option \(name) at level \(level) is not supported; returning -ENOPROTOOPT")
            throw SandboxError(Errno.ENOPROTOOPT)
        }
    }

    private func setSocketOption(_ args: SyscallArguments) throws(SandboxError) -> Int64 {
        let (_, host) = try socketDescriptor(args.int(0))
        let level = args.int(1)
        let name = args.int(2)
        let length = args.int(4)
        guard length >= 0 else { throw .einval }
        try checkOption(level, name, "setsockopt")
        let value = try guestBuffer(args[3], UInt64(length), access: .read)
        return Int64(try hostCheck(HostIO.setOption(host, level: level, name: name, UnsafeRawBufferPointer(value))))
    }

    private func getSocketOption(_ args: SyscallArguments) throws(SandboxError) -> Int64 {
        let (_, host) = try socketDescriptor(args.int(0))
        let level = args.int(1)
        let name = args.int(2)
        let length: Int32
        do { length = try memory.load(Int32.self, at: args[4]) } catch { throw .efault }
        guard length >= 0 else { throw .einval }
        try checkOption(level, name, "getsockopt")
        // The host writes at most `length` bytes, straight into guest memory.
        let value = try guestBuffer(args[3], UInt64(length), access: .write)
        var hostLength = UInt32(value.count)
        _ = try hostCheck(HostIO.getOption(host, level: level, name: name, value.baseAddress!, &hostLength))
        do { try memory.store(Int32(bitPattern: hostLength), at: args[4]) } catch { throw .efault }
        return 0
    }
}
