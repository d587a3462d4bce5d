import RivetMachine

#if canImport(Glibc)
import Glibc
#endif

/// Where the guest's address space puts things, following Linux on riscv64 (Sv39).
public enum AddressLayout {
    /// The load bias of a position-independent main program: ELF_ET_DYN_BASE, 2/3 of the
    /// address space, page aligned.
    public static let pieBase: UInt64 = (GuestMemory.addressSpaceSize / 3 * 2) & ~0xfff
    /// The stack ends at the top of the address space.
    public static let stackTop: UInt64 = GuestMemory.addressSpaceSize
    /// The stack's size (RLIMIT_STACK's default).
    public static let stackSize: UInt64 = 8 << 20
    /// mmap allocates downwards from here (Linux leaves at least 128 MiB for the stack).
    public static let mmapTop: UInt64 = GuestMemory.addressSpaceSize - (128 << 20)
    /// mmap never allocates below this.
    public static let mmapBottom: UInt64 = 1 << 16
}

/// A program (and its interpreter) in guest memory, ready for an initial stack.
public struct LoadedProgram: Sendable {
    /// Where execution starts: the interpreter's entry for dynamic programs.
    public var entry: UInt64
    /// The main program's entry (AT_ENTRY).
    public var programEntry: UInt64
    /// Guest address of the main program's program headers (AT_PHDR).
    public var programHeaders: UInt64
    public var programHeaderCount: Int
    /// The interpreter's load bias (AT_BASE), 0 for static programs.
    public var interpreterBase: UInt64
    /// The main program's load bias (0 for ET_EXEC).
    public var bias: UInt64
    /// The first byte after the main program's highest segment, page aligned: where brk starts.
    public var brkStart: UInt64
    /// The main program's ELF.
    public var elf: ELFFile
}

/// Loads ELF executables into guest memory as Linux's binfmt_elf does.
public enum Loader {
    /// Loads `program` (at host path `path`, for /proc/self/maps), and its interpreter from
    /// `interpreterBytes` when it names one.
    /// - Throws: `ELFError` for a file that cannot be loaded.
    public static func load(
        _ program: ELFFile, path: String, interpreter: (ELFFile, path: String)?, into memory: GuestMemory
    ) throws(ELFError) -> LoadedProgram {
        let bias = Self.bias(of: program)
        let end = try mapSegments(program, bias: bias, name: path, into: memory)

        var phdr: UInt64 = 0
        if let h = program.programHeaders.first(where: { $0.type == ELFFile.ProgramHeader.phdr }) {
            phdr = h.vaddr &+ bias
        } else if let h = program.loadSegments.first(where: {
            $0.offset <= program.programHeaderOffset && program.programHeaderOffset < $0.offset + $0.fileSize
        }) {
            phdr = h.vaddr &+ (program.programHeaderOffset - h.offset) &+ bias
        }

        var entry = program.entry &+ bias
        var interpreterBase: UInt64 = 0
        if let (interp, interpPath) = interpreter {
            guard interp.kind == .sharedObject else { throw ELFError("interpreter \(interpPath) is not position independent") }
            guard let start = interpreterStart(interp, in: memory.map) else { throw ELFError("no room for the interpreter") }
            interpreterBase = start.rawValue &- lowestAddress(interp)
            _ = try mapSegments(interp, bias: interpreterBase, name: interpPath, into: memory)
            entry = interp.entry &+ interpreterBase
        }
        guard memory.permissions(at: entry).contains(.execute) else {
            throw ELFError("entry point 0x\(String(entry, radix: 16)) is not in an executable segment")
        }
        return LoadedProgram(
            entry: entry, programEntry: program.entry &+ bias, programHeaders: phdr,
            programHeaderCount: program.programHeaders.count, interpreterBase: interpreterBase, bias: bias,
            brkStart: GuestAddress(end).pageEnd.rawValue, elf: program)
    }

    /// Where `load` puts the main program: 0 for ET_EXEC, above `pieBase` for a PIE.
    private static func bias(of program: ELFFile) -> UInt64 {
        program.kind == .sharedObject ? AddressLayout.pieBase - lowestAddress(program) : 0
    }

    /// Where `load` puts the interpreter: the highest free stretch of the mmap area in `map`.
    private static func interpreterStart(_ interp: ELFFile, in map: MemoryMap) -> GuestAddress? {
        let span = highestAddress(interp) - lowestAddress(interp)
        return map.findFree(
            size: GuestAddress(span).pageEnd.rawValue, lowest: GuestAddress(AddressLayout.mmapBottom),
            highest: GuestAddress(AddressLayout.mmapTop))
    }

    /// The guest addresses `load` gives the executable, read-only segments of the main program
    /// and of its interpreter (placed as in an empty address space, where an exec loads it):
    /// where an execve looks for code of the old program it can keep (`GuestMemory.codeSnapshot`;
    /// a wrong guess only keeps less).
    public static func executableRanges(of program: ELFFile, interpreter: ELFFile? = nil) -> [CodeRange] {
        var ranges = executableRanges(of: program, bias: bias(of: program))
        if let interpreter, let start = interpreterStart(interpreter, in: MemoryMap()) {
            ranges += executableRanges(of: interpreter, bias: start.rawValue &- lowestAddress(interpreter))
        }
        return ranges
    }

    private static func executableRanges(of elf: ELFFile, bias: UInt64) -> [CodeRange] {
        elf.loadSegments.filter { $0.executable && !$0.writable && $0.memorySize > 0 }.compactMap { s in
            let start = s.vaddr &+ bias
            guard GuestMemory.contains(start, size: s.memorySize) else { return nil }
            return CodeRange(start: start, end: start + s.memorySize)
        }
    }

    private static func lowestAddress(_ elf: ELFFile) -> UInt64 {
        (elf.loadSegments.filter { $0.memorySize > 0 }.map(\.vaddr).min() ?? 0) & ~0xfff
    }

    private static func highestAddress(_ elf: ELFFile) -> UInt64 {
        elf.loadSegments.map { $0.vaddr + $0.memorySize }.max() ?? 0
    }

    /// The first page number of segment `s` at `bias`, and one past its last.
    private static func pages(_ s: ELFFile.ProgramHeader, bias: UInt64) -> (first: UInt64, last: UInt64) {
        let start = s.vaddr &+ bias
        return (start >> GuestMemory.pageShift, GuestAddress(start + s.memorySize).pageEnd.rawValue >> GuestMemory.pageShift)
    }

    private static func rights(_ s: ELFFile.ProgramHeader) -> MemoryPermissions {
        var rights: MemoryPermissions = []
        if s.readable { rights.insert(.read) }
        if s.writable { rights.insert(.write) }
        if s.executable { rights.insert(.execute) }
        return rights
    }

    /// The file at `path` opened for reading if it is a regular file of `size` bytes (the one
    /// parsed, as far as `mapSegments` asks), else nil.
    private static func openProgram(_ path: String, size: Int) -> Int32? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, Int(info.st_size) == size else {
            close(fd)
            return nil
        }
        return fd
    }

    /// Maps segment `s` (one of `all`) from the program's file open at `fd`, if `mapSegments`
    /// may; false if it is to be copied.
    private static func mapFromFile(
        _ s: ELFFile.ProgramHeader, of all: [ELFFile.ProgramHeader], fd: Int32, bias: UInt64, path: String,
        into memory: GuestMemory
    ) -> Bool {
        // A read-only segment must lie wholly in the file: its zero-filled part would need a write.
        guard s.fileSize > 0, s.writable || s.fileSize == s.memorySize else { return false }
        let (first, last) = pages(s, bias: bias)
        for other in all where other != s {
            let (otherFirst, otherLast) = pages(other, bias: bias)
            if otherFirst < last && first < otherLast { return false }
        }
        // The pages holding file bytes come from the file; the rest of the last of them, and
        // the pages after it, are zeros.
        let start = s.vaddr &+ bias
        let fileEnd = start + s.fileSize
        let filePagesEnd = GuestAddress(fileEnd).pageEnd.rawValue
        do throws(MappingError) {
            try memory.mapFile(
                at: GuestAddress(first << GuestMemory.pageShift), size: filePagesEnd - (first << GuestMemory.pageShift),
                permissions: rights(s), fd: fd, offset: s.offset & ~(GuestMemory.pageSize - 1), shared: false, name: path)
            if last << GuestMemory.pageShift > filePagesEnd {
                try memory.mapAnonymous(
                    at: GuestAddress(filePagesEnd), size: (last << GuestMemory.pageShift) - filePagesEnd,
                    permissions: rights(s), name: path)
            }
        } catch {
            try? memory.unmap(at: GuestAddress(first << GuestMemory.pageShift), size: (last - first) << GuestMemory.pageShift)
            return false
        }
        if s.writable {
            memory.host(fileEnd).initializeMemory(as: UInt8.self, repeating: 0, count: Int(filePagesEnd - fileEnd))
        }
        return true
    }

    /// Maps every PT_LOAD of `elf` at `bias`. Pages shared by two segments get the union of
    /// their rights. Returns the end of the highest segment.
    ///
    /// A segment whose pages no other segment shares is mapped from the file at `name`
    /// (privately, as Linux maps it: its zero-filled part after the file's pages is anonymous)
    /// when that file is still the one parsed (same size), instead of copied: copying took a
    /// page fault and a copy for every page, 6% of the `startup` workload (Performance.md,
    /// twenty-sixth session). The others, a read-only segment with a zero-filled part, and any
    /// segment the host will not map from the file, are copied into anonymous memory.
    private static func mapSegments(_ elf: ELFFile, bias: UInt64, name: String, into memory: GuestMemory)
        throws(ELFError) -> UInt64
    {
        let all = elf.loadSegments.filter { $0.memorySize > 0 }
        for s in all {
            let start = s.vaddr &+ bias
            guard GuestMemory.contains(start, size: s.memorySize), start >= GuestMemory.pageSize else {
                throw ELFError("segment at 0x\(String(s.vaddr, radix: 16)) does not fit in the guest address space")
            }
            guard s.memorySize <= memory.limit else {
                throw ELFError("segment at 0x\(String(s.vaddr, radix: 16)) is larger than the guest memory limit")
            }
        }
        var segments = all
        // The file that was parsed, or for contents held in memory the file at `name` if it is as
        // large.
        let opened = elf.file.descriptor == nil ? openProgram(name, size: elf.file.count) : nil
        if let fd = elf.file.descriptor ?? opened {
            segments = all.filter { s in !mapFromFile(s, of: all, fd: fd, bias: bias, path: name, into: memory) }
        }
        if let opened { close(opened) }
        let end = all.map { $0.vaddr &+ bias + $0.memorySize }.max() ?? 0
        // Page ranges per segment; neighbours may share a page, which gets both segments' rights.
        let ranges = segments.map { s in
            let (first, last) = pages(s, bias: bias)
            return (first: first, last: last, rights: rights(s))
        }
        let cuts = Set(ranges.flatMap { [$0.first, $0.last] }).sorted()
        var runs: [(start: UInt64, end: UInt64, rights: MemoryPermissions)] = []
        for (a, b) in zip(cuts, cuts.dropFirst()) {
            let covering = ranges.filter { $0.first <= a && b <= $0.last }
            guard !covering.isEmpty else { continue }
            let rights = covering.reduce(MemoryPermissions()) { $0.union($1.rights) }
            if let last = runs.last, last.end == a, last.rights == rights {
                runs[runs.count - 1].end = b
            } else {
                runs.append((a, b, rights))
            }
        }
        do throws(MappingError) {
            for run in runs {
                try memory.mapAnonymous(
                    at: GuestAddress(run.start << GuestMemory.pageShift),
                    size: (run.end - run.start) << GuestMemory.pageShift, permissions: .readWrite, name: name)
            }
        } catch {
            throw ELFError("cannot map segments: \(error == .outOfMemory ? "out of guest memory" : "\(error)")")
        }
        for s in segments where s.fileSize > 0 {
            guard elf.file.copy(at: s.offset, count: Int(s.fileSize), to: memory.host(s.vaddr &+ bias)) else {
                throw ELFError("segment at 0x\(String(s.vaddr, radix: 16)): the file is shorter than when it was read")
            }
        }
        for run in runs where run.rights != .readWrite {
            try? memory.protect(
                at: GuestAddress(run.start << GuestMemory.pageShift),
                size: (run.end - run.start) << GuestMemory.pageShift, permissions: run.rights)
        }
        return end
    }
}
