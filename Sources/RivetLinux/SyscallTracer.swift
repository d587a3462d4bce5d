import RivetMachine

/// Renders syscalls strace style: `openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3`.
public enum SyscallTracer {
    /// How to print each argument of a syscall.
    enum Arg {
        case int, hex, fd, dirfd, path, buffer, size, signal, ignore
        /// open flags, symbolic (`O_RDONLY|O_CLOEXEC`).
        case openFlags
        /// a file mode, in octal.
        case mode
        /// an address family (`AF_INET`), a socket type with its flags (`SOCK_STREAM|SOCK_CLOEXEC`).
        case family, socketType
        /// a pointer to a socket address: `{AF_INET, 127.0.0.1:80}`, `{AF_UNIX, "path"}`.
        case socketAddress
    }

    /// Argument shapes per syscall number; others print their first three arguments in hex.
    static let shapes: [Int: [Arg]] = [
        17: [.hex, .size],
        23: [.fd], 24: [.fd, .fd, .openFlags], 25: [.fd, .int, .hex], 29: [.fd, .hex, .hex], 32: [.fd, .int],
        33: [.dirfd, .path, .mode, .hex], 34: [.dirfd, .path, .mode], 35: [.dirfd, .path, .hex],
        36: [.path, .dirfd, .path], 37: [.dirfd, .path, .dirfd, .path, .hex],
        43: [.path, .hex], 44: [.fd, .hex], 45: [.path, .int], 46: [.fd, .int], 47: [.fd, .int, .int, .int],
        48: [.dirfd, .path, .int], 49: [.path], 50: [.fd], 51: [.path], 52: [.fd, .mode], 53: [.dirfd, .path, .mode],
        54: [.dirfd, .path, .int, .int, .hex], 55: [.fd, .int, .int],
        56: [.dirfd, .path, .openFlags, .mode], 57: [.fd],
        59: [.hex, .openFlags], 61: [.fd, .hex, .size], 62: [.fd, .int, .int],
        63: [.fd, .hex, .size], 64: [.fd, .buffer, .size], 65: [.fd, .hex, .int], 66: [.fd, .hex, .int],
        67: [.fd, .hex, .size, .int], 68: [.fd, .buffer, .size, .int], 69: [.fd, .hex, .int, .int],
        70: [.fd, .hex, .int, .int], 71: [.fd, .fd, .hex, .size],
        78: [.dirfd, .path, .hex, .size], 79: [.dirfd, .path, .hex, .hex], 80: [.fd, .hex], 81: [],
        82: [.fd], 83: [.fd], 88: [.dirfd, .path, .hex, .hex],
        93: [.int], 94: [.int], 96: [.hex], 99: [.hex, .size], 101: [.hex, .hex],
        113: [.int, .hex], 114: [.int, .hex], 115: [.int, .int, .hex, .hex],
        129: [.int, .signal], 130: [.int, .signal], 131: [.int, .int, .signal],
        134: [.signal, .hex, .hex, .size], 135: [.int, .hex, .hex, .size],
        160: [.hex], 166: [.mode], 172: [], 173: [], 174: [], 175: [], 176: [], 177: [], 178: [],
        214: [.hex], 215: [.hex, .size], 216: [.hex, .size, .size, .hex, .hex],
        222: [.hex, .size, .hex, .hex, .fd, .hex], 226: [.hex, .size, .hex], 233: [.hex, .size, .int],
        258: [.hex, .size, .size, .hex, .hex], 259: [.hex, .hex, .hex],
        261: [.int, .int, .hex, .hex], 276: [.dirfd, .path, .dirfd, .path, .hex],
        278: [.hex, .size, .hex], 285: [.fd, .hex, .fd, .hex, .size, .hex], 286: [.fd, .hex, .int, .int, .int, .hex],
        287: [.fd, .hex, .int, .int, .int, .hex], 291: [.dirfd, .path, .hex, .hex, .hex], 293: [.hex, .size, .hex, .hex],
        436: [.fd, .fd, .hex], 439: [.dirfd, .path, .int, .hex], 452: [.dirfd, .path, .mode, .hex],
        // Waiting and event descriptors
        19: [.int, .hex], 20: [.hex], 21: [.fd, .int, .fd, .hex], 22: [.fd, .hex, .int, .int, .hex, .size],
        72: [.int, .hex, .hex, .hex, .hex, .hex], 73: [.hex, .int, .hex, .hex, .size], 74: [.fd, .hex, .size, .hex],
        85: [.int, .hex], 86: [.fd, .hex, .hex, .hex], 87: [.fd, .hex], 441: [.fd, .hex, .int, .hex, .hex, .size],
        // Sockets
        198: [.family, .socketType, .int], 199: [.family, .socketType, .int, .hex],
        200: [.fd, .socketAddress, .size], 201: [.fd, .int], 202: [.fd, .hex, .hex], 203: [.fd, .socketAddress, .size],
        204: [.fd, .hex, .hex], 205: [.fd, .hex, .hex], 206: [.fd, .buffer, .size, .hex, .socketAddress, .size],
        207: [.fd, .hex, .size, .hex, .hex, .hex], 208: [.fd, .int, .int, .hex, .size], 209: [.fd, .int, .int, .hex, .hex],
        210: [.fd, .int], 211: [.fd, .hex, .hex], 212: [.fd, .hex, .hex], 242: [.fd, .hex, .hex, .socketType],
        243: [.fd, .hex, .int, .hex, .hex], 269: [.fd, .hex, .int, .hex],
    ]

    public static func render(number: Int, args: SyscallArguments, result: Int64?, process: LinuxProcess) -> String {
        let shape = shapes[number] ?? [.hex, .hex, .hex]
        let rendered = shape.enumerated().map { k, arg in format(arg, args[k], process) }
        var line = SyscallNames.name(number) + "(" + rendered.joined(separator: ", ") + ")"
        if let result {
            if result < 0 && result > -4096 {
                line += " = -1 " + errnoName(-result)
            } else if number == 222 || number == 214 || number == 216 {
                line += " = 0x" + String(UInt64(bitPattern: result), radix: 16)
            } else {
                line += " = \(result)"
            }
        } else {
            line += " = ?"
        }
        return line
    }

    static func format(_ arg: Arg, _ value: UInt64, _ process: LinuxProcess) -> String {
        switch arg {
        case .int, .fd: return String(Int64(bitPattern: value))
        case .size: return String(value)
        case .hex: return "0x" + String(value, radix: 16)
        case .dirfd: return Int32(truncatingIfNeeded: value) == -100 ? "AT_FDCWD" : String(Int32(truncatingIfNeeded: value))
        case .signal: return Signal.name(Int32(truncatingIfNeeded: value))
        case .ignore: return "_"
        case .path:
            guard let bytes = try? process.memory.readCString(at: value, maxLength: 256) else {
                return "0x" + String(value, radix: 16)
            }
            return quote(bytes)
        case .buffer:
            // The contents are only known with the size; show the address.
            return "0x" + String(value, radix: 16)
        case .openFlags: return openFlags(Int32(truncatingIfNeeded: value))
        case .mode: return "0" + String(value & 0o7777, radix: 8)
        case .family: return LinuxProcess.familyName(Int32(truncatingIfNeeded: value))
        case .socketType: return socketType(Int32(truncatingIfNeeded: value))
        case .socketAddress: return socketAddress(value, process)
        }
    }

    /// `SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC`.
    static func socketType(_ type: Int32) -> String {
        let names = [1: "SOCK_STREAM", 2: "SOCK_DGRAM", 3: "SOCK_RAW", 4: "SOCK_RDM", 5: "SOCK_SEQPACKET", 10: "SOCK_PACKET"]
        var parts = type & 0xf == 0 ? [] : [names[Int(type & 0xf)] ?? String(type & 0xf)]
        if type & 0o4000 != 0 { parts.append("SOCK_NONBLOCK") }
        if type & 0o2000000 != 0 { parts.append("SOCK_CLOEXEC") }
        let rest = type & ~(0xf | 0o4000 | 0o2000000)
        if rest != 0 || parts.isEmpty { parts.append("0x" + String(rest, radix: 16)) }
        return parts.joined(separator: "|")
    }

    /// A socket address in guest memory, as far as it can be read (the length is the next
    /// argument; families are told apart by their first two bytes).
    static func socketAddress(_ address: UInt64, _ process: LinuxProcess) -> String {
        let hex = "0x" + String(address, radix: 16)
        guard let family = try? process.memory.load(UInt16.self, at: address) else { return hex }
        switch Int32(family) {
        case 1:
            guard let path = try? process.memory.readCString(at: address &+ 2, maxLength: 108) else { return hex }
            if path.isEmpty, let abstract = try? process.memory.read(at: address &+ 3, size: 16) {
                return "{AF_UNIX, @" + quote(Array(abstract.prefix { $0 != 0 })) + "}"
            }
            return "{AF_UNIX, " + quote(path) + "}"
        case 2:
            guard let bytes = try? process.memory.read(at: address, size: 8) else { return hex }
            let port = Int(bytes[2]) << 8 | Int(bytes[3])
            return "{AF_INET, \(bytes[4]).\(bytes[5]).\(bytes[6]).\(bytes[7]):\(port)}"
        case 10:
            guard let bytes = try? process.memory.read(at: address, size: 24) else { return hex }
            let port = Int(bytes[2]) << 8 | Int(bytes[3])
            let groups = stride(from: 8, to: 24, by: 2).map { String(Int(bytes[$0]) << 8 | Int(bytes[$0 + 1]), radix: 16) }
            return "{AF_INET6, [" + groups.joined(separator: ":") + "]:\(port)}"
        default:
            return "{" + LinuxProcess.familyName(Int32(family)) + ", ...}"
        }
    }

    /// `O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC`, as strace prints open flags.
    static func openFlags(_ flags: Int32) -> String {
        let names: [(Int32, String)] = [
            (0o100, "O_CREAT"), (0o200, "O_EXCL"), (0o400, "O_NOCTTY"), (0o1000, "O_TRUNC"), (0o2000, "O_APPEND"),
            (0o4000, "O_NONBLOCK"), (0o4010000, "O_SYNC"), (0o10000, "O_DSYNC"), (0o20000, "O_ASYNC"),
            (0o40000, "O_DIRECT"), (0o100000, "O_LARGEFILE"), (0o20200000, "O_TMPFILE"), (0o200000, "O_DIRECTORY"),
            (0o400000, "O_NOFOLLOW"), (0o1000000, "O_NOATIME"), (0o2000000, "O_CLOEXEC"), (0o10000000, "O_PATH"),
        ]
        var parts = [["O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"][Int(flags & 3)]]
        var rest = flags & ~3
        for (bit, name) in names where rest & bit == bit {
            parts.append(name)
            rest &= ~bit
        }
        if rest != 0 { parts.append("0" + String(rest, radix: 8)) }
        return parts.joined(separator: "|")
    }

    static func quote(_ bytes: [UInt8]) -> String {
        var s = "\""
        for b in bytes.prefix(64) {
            switch b {
            case 0x22: s += "\\\""
            case 0x5c: s += "\\\\"
            case 0x0a: s += "\\n"
            case 0x09: s += "\\t"
            case 0x20..<0x7f: s.append(Character(UnicodeScalar(b)))
            default: s += "\\x" + String(b, radix: 16)
            }
        }
        s += "\""
        if bytes.count > 64 { s += "..." }
        return s
    }

    static func errnoName(_ code: Int64) -> String {
        let names: [Int64: String] = [
            1: "EPERM", 2: "ENOENT", 3: "ESRCH", 4: "EINTR", 5: "EIO", 7: "E2BIG", 9: "EBADF", 10: "ECHILD",
            11: "EAGAIN", 12: "ENOMEM", 13: "EACCES", 14: "EFAULT", 16: "EBUSY", 17: "EEXIST", 18: "EXDEV",
            6: "ENXIO", 19: "ENODEV", 20: "ENOTDIR", 21: "EISDIR", 22: "EINVAL", 24: "EMFILE", 25: "ENOTTY", 28: "ENOSPC",
            29: "ESPIPE", 30: "EROFS", 32: "EPIPE", 34: "ERANGE", 36: "ENAMETOOLONG", 38: "ENOSYS",
            26: "ETXTBSY", 39: "ENOTEMPTY", 40: "ELOOP", 84: "EILSEQ", 95: "EOPNOTSUPP",
            88: "ENOTSOCK", 89: "EDESTADDRREQ", 90: "EMSGSIZE", 92: "ENOPROTOOPT", 93: "EPROTONOSUPPORT",
            97: "EAFNOSUPPORT", 98: "EADDRINUSE", 99: "EADDRNOTAVAIL", 101: "ENETUNREACH", 104: "ECONNRESET",
            105: "ENOBUFS", 106: "EISCONN", 107: "ENOTCONN", 110: "ETIMEDOUT", 111: "ECONNREFUSED",
            113: "EHOSTUNREACH", 114: "EALREADY", 115: "EINPROGRESS",
        ]
        return (names[code] ?? "E\(code)") + " (errno \(code))"
    }
}
