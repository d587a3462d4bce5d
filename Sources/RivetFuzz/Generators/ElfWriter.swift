#if canImport(Glibc)
import Glibc
#endif
import Rivet

/// Writes minimal static RISC-V ELF64 executables, for tests and the fuzzer, which make guest
/// programs at run time (so they need no cross-compiler).
///
/// The file is the ELF header and program headers in its first page, then each segment's bytes
/// at a page-aligned file offset. Segment addresses must be page-aligned and increasing. There
/// are no section headers and no symbols: the loader needs neither.
package struct ElfWriter {
    /// A PT_LOAD segment.
    package struct Segment {
        /// Where the segment is loaded (page-aligned).
        package var address: UInt64
        /// The bytes loaded from the file; `memorySize - bytes.count` zero bytes follow.
        package var bytes: [UInt8]
        /// Bytes of guest memory the segment occupies.
        package var memorySize: UInt64
        /// Whether the guest may read it (PF_R).
        package var readable = true
        /// Whether the guest may write it (PF_W).
        package var writable = false
        /// Whether the guest may execute it (PF_X).
        package var executable = false

        /// A segment of `memorySize` bytes at `address`, starting with `bytes`.
        package init(
            address: UInt64, bytes: [UInt8], memorySize: UInt64, readable: Bool = true, writable: Bool = false,
            executable: Bool = false
        ) {
            self.address = address
            self.bytes = bytes
            self.memorySize = memorySize
            self.readable = readable
            self.writable = writable
            self.executable = executable
        }
    }

    /// Segments are page-aligned, in memory and in the file.
    package static let pageSize: UInt64 = 4096

    /// Where the program starts.
    package var entry: UInt64
    /// The loaded segments, in increasing address order.
    package var segments: [Segment]
    /// A PT_INTERP path (the file is then a dynamically linked program).
    package var interpreter: String? = nil

    /// A program starting at `entry`, made of `segments`, dynamically linked to `interpreter`
    /// when one is given.
    package init(entry: UInt64, segments: [Segment], interpreter: String? = nil) {
        self.entry = entry
        self.segments = segments
        self.interpreter = interpreter
    }

    /// The file's bytes.
    package func bytes() -> [UInt8] {
        let headerCount = segments.count + (interpreter == nil ? 0 : 1)
        precondition(!segments.isEmpty && 64 + 56 * headerCount + 256 <= Int(Self.pageSize))
        var file = [UInt8](repeating: 0, count: Int(Self.pageSize))
        func put16(_ value: UInt16, _ at: Int) { for k in 0..<2 { file[at + k] = UInt8(truncatingIfNeeded: value >> (8 * k)) } }
        func put32(_ value: UInt32, _ at: Int) { for k in 0..<4 { file[at + k] = UInt8(truncatingIfNeeded: value >> (8 * k)) } }
        func put64(_ value: UInt64, _ at: Int) { for k in 0..<8 { file[at + k] = UInt8(truncatingIfNeeded: value >> (8 * k)) } }

        // e_ident: magic, ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_SYSV.
        file[0] = 0x7f; file[1] = 0x45; file[2] = 0x4c; file[3] = 0x46
        file[4] = 2; file[5] = 1; file[6] = 1
        put16(2, 16)  // ET_EXEC
        put16(243, 18)  // EM_RISCV
        put32(1, 20)  // e_version
        put64(entry, 24)
        put64(64, 32)  // e_phoff
        put64(0, 40)  // e_shoff: none
        put32(0x5, 48)  // EF_RISCV_RVC | EF_RISCV_FLOAT_ABI_DOUBLE
        put16(64, 52)  // e_ehsize
        put16(56, 54)  // e_phentsize
        put16(UInt16(headerCount), 56)
        put16(64, 58)  // e_shentsize
        put16(0, 60)  // e_shnum
        put16(0, 62)  // e_shstrndx

        var previousEnd: UInt64 = 0
        for (n, segment) in segments.enumerated() {
            precondition(segment.address % Self.pageSize == 0 && segment.address >= previousEnd)
            precondition(UInt64(segment.bytes.count) <= segment.memorySize)
            previousEnd = segment.address + segment.memorySize
            let offset = UInt64(file.count)
            let header = 64 + 56 * n
            var flags: UInt32 = 0
            if segment.executable { flags |= 1 }
            if segment.writable { flags |= 2 }
            if segment.readable { flags |= 4 }
            put32(1, header)  // PT_LOAD
            put32(flags, header + 4)
            put64(offset, header + 8)
            put64(segment.address, header + 16)  // p_vaddr
            put64(segment.address, header + 24)  // p_paddr
            put64(UInt64(segment.bytes.count), header + 32)
            put64(segment.memorySize, header + 40)
            put64(Self.pageSize, header + 48)
            file += segment.bytes
            let padding = (Self.pageSize - UInt64(file.count) % Self.pageSize) % Self.pageSize
            file += [UInt8](repeating: 0, count: Int(padding))
        }
        if let interpreter {
            // The path, NUL-terminated, in the first page after the headers.
            let text = Array(interpreter.utf8.prefix(254)) + [0]
            let at = Int(Self.pageSize) - 256
            for (k, byte) in text.enumerated() { file[at + k] = byte }
            let header = 64 + 56 * segments.count
            put32(3, header)  // PT_INTERP
            put32(4, header + 4)
            put64(UInt64(at), header + 8)
            put64(UInt64(text.count), header + 32)
            put64(UInt64(text.count), header + 40)
            put64(1, header + 48)
        }
        return file
    }

    /// Writes the file to `path`, executable.
    package func write(to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        guard fd >= 0 else { throw RivetError(.invalidConfiguration, "cannot create \(path)") }
        defer { close(fd) }
        let data = bytes()
        var done = 0
        while done < data.count {
            let n = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            guard n > 0 else { throw RivetError(.invalidConfiguration, "cannot write \(path)") }
            done += n
        }
    }
}
