import Rivet
import RivetFuzz
import RivetLinux
import RivetMachine
import Testing

/// Mutated ELF files must be rejected with an error or run as guests; never crash the host.
@Suite struct LoaderFuzzTests {
    static let original: [UInt8] = {
        guard let text = try? readBytes(repositoryRoot + "/Tests/RivetTests/Fixtures/bin/hello_static") else { return [] }
        return text
    }()

    @Test func segmentsAreMappedFromTheirFileWhileItIsTheOneParsed() throws {
        let original = Self.original
        try #require(!original.isEmpty)
        let elf = try ELFFile(bytes: original, addressSpaceSize: GuestMemory.addressSpaceSize)
        let text = try #require(elf.loadSegments.first { $0.executable && !$0.writable })
        let data = try #require(elf.loadSegments.first { $0.writable && $0.memorySize > $0.fileSize })
        // Each segment's first region, and whether the guest reads the file's bytes there and
        // zeros after them.
        func load(_ path: String) throws -> [(region: MemoryRegion?, same: Bool)] {
            let memory = try GuestMemory(limit: 1 << 30)
            let loaded = try Loader.load(elf, path: path, interpreter: nil, into: memory)
            return [text, data].map { s in
                let start = s.vaddr &+ loaded.bias
                let region = memory.map.regions.first { $0.start.rawValue <= start && start < $0.end.rawValue }
                let guest = UnsafeRawBufferPointer(start: memory.host(start), count: Int(s.memorySize))
                let same = original[Int(s.offset)..<Int(s.offset + s.fileSize)].elementsEqual(guest.prefix(Int(s.fileSize)))
                    && guest.dropFirst(Int(s.fileSize)).allSatisfy { $0 == 0 }
                return (region, same)
            }
        }
        // From the file it was read from: mapped from it.
        for (k, segment) in try load(repositoryRoot + "/Tests/RivetTests/Fixtures/bin/hello_static").enumerated() {
            #expect(segment.region?.backing != nil && segment.same, "segment \(k)")
        }
        // A file that is not the one parsed (another size), or none: copied.
        for path in [repositoryRoot + "/Tests/RivetTests/Fixtures/hello_static.c", "/nonexistent/program"] {
            for (k, segment) in try load(path).enumerated() {
                #expect(segment.region != nil && segment.region?.backing == nil && segment.same, "\(path), segment \(k)")
            }
        }
    }

    @Test func mutatedELFsAreRejectedOrRunWithoutCrashing() throws {
        let original = Self.original
        try #require(!original.isEmpty)
        var g = SplitMix64(state: 0x5eed)
        var rejected = 0
        var ran = 0
        for _ in 0..<400 {
            let bytes = ElfMutator.mutate(original, &g)
            let elf: ELFFile
            do {
                elf = try ELFFile(bytes: bytes, addressSpaceSize: GuestMemory.addressSpaceSize)
            } catch {
                #expect(!error.message.isEmpty && !error.message.contains("\n"))
                rejected += 1
                continue
            }
            let memory = try GuestMemory(limit: 1 << 30)
            do {
                _ = try Loader.load(elf, path: "/fuzz", interpreter: nil, into: memory)
                ran += 1
            } catch {
                #expect(!error.message.isEmpty)
                rejected += 1
            }
        }
        #expect(rejected > 50)
        #expect(ran > 10)
    }

    @Test func mutatedProgramsRunToAnExitReason() throws {
        let original = Self.original
        try #require(!original.isEmpty)
        var g = SplitMix64(state: 0xf00d)
        for round in 0..<60 {
            var bytes = original
            // Corrupt code and data, not headers: the guest must fault or exit cleanly.
            for _ in 0..<(1 + g.below(64)) {
                let offset = 0x1000 + g.below(bytes.count - 0x1000)
                bytes[offset] = UInt8(truncatingIfNeeded: g.next())
            }
            let path = "/tmp/rivet-fuzz-\(round)"
            try writeBytes(bytes, to: path)
            defer { _ = unlinkFile(path) }
            let result = try runGuest(path) { $0.limits.instructions = 2_000_000 }
            switch result.reason {
            case .exited, .signaled, .instructionLimitReached: break
            case .timeLimitReached, .paused, .cancelled: Issue.record("unexpected \(result.reason)")
            }
        }
    }
}
