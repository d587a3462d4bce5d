#if canImport(Glibc)
import Glibc
#endif

/// gdb's host I/O (`vFile:`), read-only and in the guest's terms: gdb reads `/proc/PID/maps`
/// for `info proc mappings`, and with its default sysroot (`target:`) the program's libraries,
/// through these. Every path is resolved by the guest's sandbox (`GDBTarget.openFile`), so gdb
/// sees what the guest sees — its emulated `/proc`, its granted directories — and nothing else
/// of the host. Replies are `F` and a result in hex, or `F-1,errno`.
extension GDBStub {
    /// The most bytes one `vFile:pread` returns: escaped, they fit the packet size.
    static let fileChunk = 0x1000
    /// The most files gdb may have open at once.
    static let maximumFiles = 64

    /// Answers `vFile:` `request` (what follows the colon).
    func fileRequest(_ request: Substring, target: some GDBTarget) -> [UInt8] {
        let colon = request.firstIndex(of: ":") ?? request.endIndex
        let operation = request[..<colon]
        let arguments = colon < request.endIndex ? request[request.index(after: colon)...].split(separator: ",") : []
        func failure(_ errno: Int64) -> [UInt8] { Array("F-1,\(String(errno, radix: 16))".utf8) }
        switch operation {
        case "setfs":
            return Array("F0".utf8)  // one process: its file system
        case "open":
            // open:PATH(hex),FLAGS,MODE: only reading (flags are gdb's File-I/O flags; 0 is O_RDONLY).
            guard arguments.count >= 2, let bytes = GDBPacket.bytes(fromHex: arguments[0]),
                let path = String(validating: bytes, as: UTF8.self), let flags = GDBPacket.number(arguments[1])
            else { return failure(22) }  // EINVAL
            guard flags == 0 else { return failure(30) }  // EROFS
            guard files.count < Self.maximumFiles else { return failure(24) }  // EMFILE
            switch target.openFile(path) {
            case .failure(let error): return failure(error.errno)
            case .success(let file):
                let fd = nextFile
                nextFile += 1
                files[fd] = file
                return Array("F\(String(fd, radix: 16))".utf8)
            }
        case "pread":
            // pread:FD,COUNT,OFFSET.
            guard arguments.count == 3, let fd = GDBPacket.number(arguments[0]), let count = GDBPacket.number(arguments[1]),
                let offset = GDBPacket.number(arguments[2]), offset < 1 << 62
            else { return failure(22) }
            guard let file = files[Int64(bitPattern: fd)] else { return failure(9) }  // EBADF
            let wanted = Int(min(count, UInt64(Self.fileChunk)))
            var data: [UInt8]
            switch file {
            case .contents(let bytes):
                let start = Int(min(offset, UInt64(bytes.count)))
                data = Array(bytes[start..<min(bytes.count, start + wanted)])
            case .host(let descriptor):
                data = [UInt8](repeating: 0, count: wanted)
                let n = data.withUnsafeMutableBytes { Glibc.pread(descriptor, $0.baseAddress, wanted, off_t(offset)) }
                guard n >= 0 else { return failure(Int64(errno)) }
                data.removeLast(wanted - n)
            }
            return Array("F\(String(data.count, radix: 16));".utf8) + data
        case "close":
            guard arguments.count == 1, let fd = GDBPacket.number(arguments[0]), let file = files.removeValue(forKey: Int64(bitPattern: fd))
            else { return failure(9) }
            if case .host(let descriptor) = file { close(descriptor) }
            return Array("F0".utf8)
        case "fstat":
            guard arguments.count == 1, let fd = GDBPacket.number(arguments[0]), let file = files[Int64(bitPattern: fd)] else {
                return failure(9)
            }
            let status = fileStatus(file)
            return Array("F\(String(status.count, radix: 16));".utf8) + status
        case "readlink":
            guard arguments.count == 1, let bytes = GDBPacket.bytes(fromHex: arguments[0]),
                let path = String(validating: bytes, as: UTF8.self)
            else { return failure(22) }
            switch target.readLink(path) {
            case .failure(let error): return failure(error.errno)
            case .success(let text): return Array("F\(String(text.utf8.count, radix: 16));".utf8) + Array(text.utf8)
            }
        case "pwrite", "unlink":
            return failure(30)  // EROFS: gdb changes no file
        default:
            return []
        }
    }

    /// gdb's `struct fio_stat` for `file` (big-endian: dev, ino, mode, nlink, uid, gid, rdev as
    /// 32 bits; size, blksize, blocks as 64; atime, mtime, ctime as 32): a read-only regular file.
    private func fileStatus(_ file: GDBFile) -> [UInt8] {
        var size: UInt64 = 0
        var modified: UInt32 = 0
        var device: UInt32 = 0
        var inode: UInt32 = 0
        switch file {
        case .contents(let bytes): size = UInt64(bytes.count)
        case .host(let descriptor):
            var info = stat()
            if fstat(descriptor, &info) == 0 {
                size = UInt64(info.st_size)
                modified = UInt32(truncatingIfNeeded: info.st_mtim.tv_sec)
                device = UInt32(truncatingIfNeeded: info.st_dev)
                inode = UInt32(truncatingIfNeeded: info.st_ino)
            }
        }
        func word(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }
        func long(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * UInt64($0))) } }
        let mode: UInt32 = 0o100444
        return word(device) + word(inode) + word(mode) + word(1) + word(0) + word(0) + word(0)
            + long(size) + long(4096) + long((size + 511) / 512) + word(modified) + word(modified) + word(modified)
    }

    /// Closes the files gdb left open.
    func closeFiles() {
        for case .host(let descriptor) in files.values { close(descriptor) }
        files = [:]
    }
}
