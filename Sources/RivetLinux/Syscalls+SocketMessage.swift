#if canImport(Glibc)
import Glibc
#endif
import RivetMachine

/// sendmsg, recvmsg, sendmmsg, recvmmsg. `struct msghdr`, `struct mmsghdr` and `struct
/// cmsghdr` are the same on riscv64 and x86-64; the data goes straight between guest memory
/// and the host. What is translated: the name (a Unix-domain path), and descriptors in
/// SCM_RIGHTS messages, guest to host on the way out and host to new guest descriptors on
/// the way in.
extension LinuxProcess {
    /// Offsets in `struct msghdr`.
    private enum MessageHeader {
        static let name: UInt64 = 0
        static let nameLength: UInt64 = 8
        static let vector: UInt64 = 16
        static let vectorLength: UInt64 = 24
        static let control: UInt64 = 32
        static let controlLength: UInt64 = 40
        static let flags: UInt64 = 48
        /// sizeof(struct mmsghdr): the header, then `unsigned int msg_len`, padded.
        static let multipleSize: UInt64 = 64
        static let multipleLength: UInt64 = 56
    }

    /// The most control bytes one call carries (Linux's limit is net.core.optmem_max): ENOBUFS
    /// for more on sendmsg; recvmsg receives at most this much.
    static let maxControl = 65536
    /// UIO_MAXIOV: the most iovecs in a message, and the most messages in one *mmsg call.
    static let maxVector: UInt64 = 1024
    /// SCM_MAX_FD: the most descriptors in one SCM_RIGHTS message.
    static let maxRights = 253

    /// A guest `struct msghdr`, its buffers made host memory.
    private struct GuestMessage {
        var name: UInt64
        /// At most sizeof(struct sockaddr_storage), as Linux clamps it.
        var nameRoom: Int
        var buffers: [UnsafeMutableRawBufferPointer]
        var control: UInt64
        var controlLength: UInt64
    }

    private func readMessage(_ address: UInt64, access: AccessKind) throws(SandboxError) -> GuestMessage {
        let name: UInt64
        let nameLength: Int32
        let vector: UInt64
        let vectorLength: UInt64
        let control: UInt64
        let controlLength: UInt64
        do {
            name = try memory.load(UInt64.self, at: address &+ MessageHeader.name)
            nameLength = try memory.load(Int32.self, at: address &+ MessageHeader.nameLength)
            vector = try memory.load(UInt64.self, at: address &+ MessageHeader.vector)
            vectorLength = try memory.load(UInt64.self, at: address &+ MessageHeader.vectorLength)
            control = try memory.load(UInt64.self, at: address &+ MessageHeader.control)
            controlLength = try memory.load(UInt64.self, at: address &+ MessageHeader.controlLength)
        } catch { throw .efault }
        guard nameLength >= 0 else { throw .einval }
        guard vectorLength <= Self.maxVector else { throw SandboxError(Errno.EMSGSIZE) }
        var buffers: [UnsafeMutableRawBufferPointer] = []
        for range in try ioVector(vector, count: vectorLength) {
            buffers.append(try guestBuffer(range.address, range.length, access: access))
        }
        return GuestMessage(
            name: name, nameRoom: min(Int(nameLength), SocketABI.maxAddress), buffers: buffers, control: control,
            controlLength: controlLength)
    }

    /// Calls `body` with a host `struct msghdr` for `message`'s buffers, `name` and `control`.
    private func withHostMessage<R>(
        _ message: GuestMessage, name: UnsafeMutableRawBufferPointer?, control: UnsafeMutableRawBufferPointer,
        _ body: (UnsafeMutablePointer<msghdr>) -> R
    ) -> R {
        var vectors = message.buffers.map { iovec(iov_base: $0.baseAddress, iov_len: $0.count) }
        return vectors.withUnsafeMutableBufferPointer { vectors in
            var header = msghdr(
                msg_name: name?.baseAddress, msg_namelen: socklen_t(name?.count ?? 0), msg_iov: vectors.baseAddress,
                msg_iovlen: vectors.count, msg_control: control.count > 0 ? control.baseAddress : nil,
                msg_controllen: control.count, msg_flags: 0)
            return body(&header)
        }
    }

    // MARK: Sending

    func sendMessage(_ fd: Int32, _ address: UInt64, flags: Int32) throws(SandboxError) -> Int64 {
        let (_, host) = try socketDescriptor(fd)
        let message = try readMessage(address, access: .read)
        var control: [UInt8] = []
        if message.controlLength > 0 {
            guard message.controlLength <= UInt64(Self.maxControl) else { throw SandboxError(Errno.ENOBUFS) }
            do { control = try memory.read(at: message.control, size: Int(message.controlLength)) } catch { throw .efault }
            try translateRightsOut(&control)
        }
        func send(_ name: UnsafeRawBufferPointer?) -> Int {
            control.withUnsafeMutableBytes { control in
                withHostMessage(message, name: name.map { UnsafeMutableRawBufferPointer(mutating: $0) }, control: control) { header in
                    blocking { HostIO.sendMessage(host, header, flags: flags) }
                }
            }
        }
        if message.name != 0 && message.nameRoom > 0 {
            let result = try withHostAddress(message.name, length: UInt64(message.nameRoom), for: .reach) { name, _ in send(name) }
            return Int64(try hostCheck(result))
        }
        return Int64(try hostCheck(send(nil)))
    }

    /// Replaces the guest descriptors of every SCM_RIGHTS message in `control` by the host's
    /// (EBADF for one that is not open, or that Rivet makes up and the host cannot pass);
    /// EINVAL for a malformed message, as Linux checks them.
    private func translateRightsOut(_ control: inout [UInt8]) throws(SandboxError) {
        var offset = 0
        while offset + 16 <= control.count {
            let (length, level, type) = control.withUnsafeBytes {
                (
                    $0.loadUnaligned(fromByteOffset: offset, as: UInt64.self),
                    $0.loadUnaligned(fromByteOffset: offset + 8, as: Int32.self),
                    $0.loadUnaligned(fromByteOffset: offset + 12, as: Int32.self)
                )
            }
            guard length >= 16, length <= UInt64(control.count - offset) else { throw .einval }
            if level == SocketABI.socketLevel && type == SocketABI.rights {
                let count = (Int(length) - 16) / 4
                guard count <= Self.maxRights else { throw .einval }
                for k in 0..<count {
                    let position = offset + 16 + 4 * k
                    let guestFD = control.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: position, as: Int32.self) }
                    guard let file = files[guestFD] else { throw .ebadf }
                    guard let host = file.hostDescriptor else {
                        warnOnce(
                            "scm_rights emulated",
                            "sendmsg: descriptor \(guestFD) (\(file.guestPath)) exists only in Rivet and cannot be passed; returning -EBADF"
                        )
                        throw .ebadf
                    }
                    control.withUnsafeMutableBytes { $0.storeBytes(of: host, toByteOffset: position, as: Int32.self) }
                }
            }
            offset += (Int(length) + 7) & ~7
        }
    }

    // MARK: Receiving

    func receiveMessage(_ fd: Int32, _ address: UInt64, flags: Int32) throws(SandboxError) -> Int64 {
        let (_, host) = try socketDescriptor(fd)
        let message = try readMessage(address, access: .write)
        let controlRoom = Int(min(message.controlLength, UInt64(Self.maxControl)))
        // Fail before anything is received (or a descriptor installed) if the guest cannot take it.
        if message.control != 0 {
            do { try memory.check(message.control, size: controlRoom, access: .write) } catch { throw .efault }
        }
        var name = [UInt8](repeating: 0, count: SocketABI.maxAddress)
        var control = [UInt8](repeating: 0, count: message.control == 0 ? 0 : controlRoom)
        var nameLength = 0
        var controlLength = 0
        var messageFlags: Int32 = 0
        let received = name.withUnsafeMutableBytes { name in
            control.withUnsafeMutableBytes { control in
                withHostMessage(message, name: message.name == 0 ? nil : name, control: control) { header in
                    let n = blocking { HostIO.receiveMessage(host, header, flags: flags) }
                    nameLength = Int(header.pointee.msg_namelen)
                    controlLength = header.pointee.msg_controllen
                    messageFlags = header.pointee.msg_flags
                    return n
                }
            }
        }
        let count = try hostCheck(received)
        let (guestControl, truncated) = translateRightsIn(
            Array(control.prefix(min(controlLength, control.count))), closeOnExec: flags & SocketABI.controlCloseOnExec != 0)
        if truncated { messageFlags |= SocketABI.controlTruncated }
        // Linux reports the caller's MSG_CMSG_CLOEXEC back in msg_flags; Rivet always adds it.
        messageFlags = messageFlags & ~SocketABI.controlCloseOnExec | flags & SocketABI.controlCloseOnExec
        if message.name != 0 {
            let bytes = guestAddress(Array(name.prefix(min(nameLength, SocketABI.maxAddress))))
            try storeAddress(bytes, at: message.name, room: message.nameRoom, lengthAddress: address &+ MessageHeader.nameLength)
        }
        do {
            if !guestControl.isEmpty { try memory.write(guestControl, at: message.control) }
            try memory.store(UInt64(guestControl.count), at: address &+ MessageHeader.controlLength)
            try memory.store(messageFlags, at: address &+ MessageHeader.flags)
        } catch { throw .efault }
        return Int64(count)
    }

    /// Installs the host descriptors of every SCM_RIGHTS message in `control` as guest
    /// descriptors and puts their numbers in their place. When the guest's table is full, the
    /// rest are closed and the message shortened (dropped if none was installed), with
    /// MSG_CTRUNC, as Linux does.
    private func translateRightsIn(_ control: [UInt8], closeOnExec: Bool) -> (control: [UInt8], truncated: Bool) {
        var out: [UInt8] = []
        var truncated = false
        var offset = 0
        while offset + 16 <= control.count {
            let length = Int(control.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt64.self) })
            guard length >= 16, length <= control.count - offset else { break }
            let level = control.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 8, as: Int32.self) }
            let type = control.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 12, as: Int32.self) }
            let end = min(offset + ((length + 7) & ~7), control.count)
            guard level == SocketABI.socketLevel && type == SocketABI.rights else {
                out += control[offset..<end]
                offset = end
                continue
            }
            var installed: [Int32] = []
            for k in 0..<(length - 16) / 4 {
                let host = control.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 16 + 4 * k, as: Int32.self) }
                if truncated {
                    Glibc.close(host)
                    continue
                }
                // When the table is full, receivedFile's open file (if new) closes the descriptor as it goes.
                guard let fd = files.insert(receivedFile(host), closeOnExec: closeOnExec) else {
                    truncated = true
                    continue
                }
                installed.append(fd)
            }
            if !installed.isEmpty {
                var message = [UInt8](repeating: 0, count: (16 + 4 * installed.count + 7) & ~7)
                message.withUnsafeMutableBytes {
                    $0.storeBytes(of: UInt64(16 + 4 * installed.count), toByteOffset: 0, as: UInt64.self)
                    $0.storeBytes(of: level, toByteOffset: 8, as: Int32.self)
                    $0.storeBytes(of: type, toByteOffset: 12, as: Int32.self)
                    for (k, fd) in installed.enumerated() { $0.storeBytes(of: fd, toByteOffset: 16 + 4 * k, as: Int32.self) }
                }
                out += message
            }
            offset = end
        }
        return (Array(out.prefix(control.count)), truncated)
    }

    /// A descriptor received from the host as a guest open file: the guest's own open file when
    /// it is the same open file description (one the guest sent itself, through a socket pair),
    /// so that offsets, names and rights stay as they were; else a new one, named as Linux's
    /// /proc names it when that is inside the guest's view, never writable through the
    /// sandbox's path checks.
    private func receivedFile(_ host: Int32) -> OpenFile {
        for fd in files.descriptors {
            if let file = files[fd], let mine = file.hostDescriptor, HostIO.sameDescription(mine, host) == true {
                Glibc.close(host)
                return file
            }
        }
        var info = stat()
        Glibc.fstat(host, &info)
        let type = info.st_mode & S_IFMT
        var name: String
        switch type {
        case S_IFSOCK: name = "socket:[\(info.st_ino)]"
        case S_IFIFO: name = "pipe:[\(info.st_ino)]"
        default:
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = buffer.withUnsafeMutableBytes {
                Glibc.readlink("/proc/self/fd/\(host)", $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count)
            }
            let text = n > 0 ? String(decoding: buffer.prefix(n), as: UTF8.self) : ""
            name = text.hasPrefix("/") ? (filesystem.guestPath(forHost: text) ?? "/(outside the sandbox)") : text
        }
        let file = OpenFile(backing: .host(host, owned: true), guestPath: name, writable: false, statusFlags: Glibc.fcntl(host, F_GETFL))
        file.isDirectory = type == S_IFDIR
        return file
    }

    // MARK: Several messages

    func sendMessages(_ args: SyscallArguments) throws(SandboxError) -> Int64 {
        let fd = args.int(0)
        _ = try socketDescriptor(fd)
        let count = min(UInt64(UInt32(truncatingIfNeeded: args[2])), Self.maxVector)
        var sent: UInt64 = 0
        while sent < count {
            let entry = args[1] &+ sent &* MessageHeader.multipleSize
            let n: Int64
            do { n = try sendMessage(fd, entry, flags: args.int(3)) } catch {
                if sent == 0 { throw error }
                break
            }
            do { try memory.store(UInt32(truncatingIfNeeded: n), at: entry &+ MessageHeader.multipleLength) } catch { throw .efault }
            sent += 1
        }
        return Int64(sent)
    }

    /// recvmmsg: after the first message, MSG_WAITFORONE makes the rest non-blocking; the
    /// timeout is looked at after each message (so the first may wait longer), as on Linux.
    func receiveMessages(_ args: SyscallArguments) throws(SandboxError) -> Int64 {
        let fd = args.int(0)
        _ = try socketDescriptor(fd)
        let count = min(UInt64(UInt32(truncatingIfNeeded: args[2])), Self.maxVector)
        var flags = args.int(3)
        let deadline = try readTimeout(args[4]).map { WaitDeadline($0) }
        var received: UInt64 = 0
        while received < count {
            let entry = args[1] &+ received &* MessageHeader.multipleSize
            let n: Int64
            do { n = try receiveMessage(fd, entry, flags: flags & ~SocketABI.waitForOne) } catch {
                if received == 0 { throw error }
                break
            }
            do { try memory.store(UInt32(truncatingIfNeeded: n), at: entry &+ MessageHeader.multipleLength) } catch { throw .efault }
            received += 1
            if flags & SocketABI.waitForOne != 0 { flags |= SocketABI.dontWait }
            if let deadline, deadline.remaining.map({ $0.tv_sec == 0 && $0.tv_nsec == 0 }) ?? false { break }
        }
        if let left = deadline?.remaining {
            try? memory.store(Int64(left.tv_sec), at: args[4])
            try? memory.store(Int64(left.tv_nsec), at: args[4] &+ 8)
        }
        return Int64(received)
    }
}
