import RivetMachine

/// Renders syscalls strace style: `openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3`.
package enum SyscallTracer {
    /// How to print each argument of a syscall.
    enum Arg {
        case int, hex, fd, dirfd, path, buffer, size, signal, ignore
    }

    /// Argument shapes per syscall number; others print their first three arguments in hex.
    static let shapes: [Int: [Arg]] = [
        17: [.hex, .size],
        23: [.fd], 24: [.fd, .fd, .hex], 25: [.fd, .int, .hex], 29: [.fd, .hex, .hex],
        34: [.dirfd, .path, .hex], 35: [.dirfd, .path, .hex], 46: [.fd, .int],
        48: [.dirfd, .path, .int], 49: [.path], 56: [.dirfd, .path, .hex, .hex], 57: [.fd],
        59: [.hex, .hex], 61: [.fd, .hex, .size], 62: [.fd, .int, .int],
        63: [.fd, .hex, .size], 64: [.fd, .buffer, .size], 65: [.fd, .hex, .int], 66: [.fd, .hex, .int],
        67: [.fd, .hex, .size, .int], 68: [.fd, .buffer, .size, .int],
        78: [.dirfd, .path, .hex, .size], 79: [.dirfd, .path, .hex, .hex], 80: [.fd, .hex],
        93: [.int], 94: [.int], 96: [.hex], 99: [.hex, .size], 101: [.hex, .hex],
        113: [.int, .hex], 114: [.int, .hex], 115: [.int, .int, .hex, .hex],
        129: [.int, .signal], 130: [.int, .signal], 131: [.int, .int, .signal],
        134: [.signal, .hex, .hex, .size], 135: [.int, .hex, .hex, .size],
        160: [.hex], 172: [], 173: [], 174: [], 175: [], 176: [], 177: [], 178: [],
        214: [.hex], 215: [.hex, .size], 216: [.hex, .size, .size, .hex, .hex],
        222: [.hex, .size, .hex, .hex, .fd, .hex], 226: [.hex, .size, .hex], 233: [.hex, .size, .int],
        258: [.hex, .size, .size, .hex, .hex], 259: [.hex, .hex, .hex],
        261: [.int, .int, .hex, .hex], 276: [.dirfd, .path, .dirfd, .path, .hex],
        278: [.hex, .size, .hex], 291: [.dirfd, .path, .hex, .hex, .hex], 293: [.hex, .size, .hex, .hex],
    ]

    package static func render(number: Int, args: SyscallArguments, result: Int64?, process: LinuxProcess) -> String {
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
        }
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
            19: "ENODEV", 20: "ENOTDIR", 21: "EISDIR", 22: "EINVAL", 24: "EMFILE", 25: "ENOTTY", 28: "ENOSPC",
            29: "ESPIPE", 30: "EROFS", 32: "EPIPE", 34: "ERANGE", 36: "ENAMETOOLONG", 38: "ENOSYS",
            39: "ENOTEMPTY", 40: "ELOOP", 95: "EOPNOTSUPP",
        ]
        return (names[code] ?? "E\(code)") + " (errno \(code))"
    }
}
