#if Benchmarks
import RivetLinux
import RivetMachine

#if canImport(Glibc)
import Glibc
#endif

/// Files and the CPU clock the suites share.
enum Fixtures {
    /// The package's root directory, found from this file's path (…/Benchmarks/RivetBenchmarks/).
    static let packageRoot: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    /// The bundled example guest, a static riscv64 C program (Examples/hello).
    static var helloPath: String { packageRoot + "/Examples/hello" }

    /// The bytes of the file at `path`; stops the benchmark run when it cannot be read.
    static func read(_ path: String) -> [UInt8] {
        guard let file = fopen(path, "rb") else { fatalError("cannot open \(path)") }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count <= 0 { break }
            bytes += chunk[0..<count]
        }
        return bytes
    }

    /// The bytes of every executable load segment of the ELF at `path`: real compiled code.
    static func code(of path: String) -> [UInt8] {
        let bytes = read(path)
        guard let elf = try? ELFFile(bytes: bytes, addressSpaceSize: GuestMemory.addressSpaceSize) else {
            fatalError("\(path) is not an ELF file Rivet can load")
        }
        var code: [UInt8] = []
        for segment in elf.loadSegments where segment.executable {
            code += bytes[Int(segment.offset)..<Int(segment.offset + segment.fileSize)]
        }
        return code
    }

    /// CPU time this thread has used, in nanoseconds.
    static func threadCPUNanoseconds() -> Int {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return time.tv_sec * 1_000_000_000 + time.tv_nsec
    }
}
#endif
