import Rivet
import RivetLinux
import RivetMachine
import Testing

/// Mutated ELF files must be rejected with an error or run as guests; never crash the host.
@Suite struct LoaderFuzzTests {
    /// A small deterministic generator (SplitMix64).
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    static let original: [UInt8] = {
        guard let text = try? readBytes(repositoryRoot + "/Tests/RivetTests/Fixtures/bin/hello_static") else { return [] }
        return text
    }()

    /// Mutates the headers most of the time (where the loader's decisions are), sometimes
    /// anywhere, sometimes by truncation.
    static func mutate(_ bytes: [UInt8], _ g: inout Generator) -> [UInt8] {
        var out = bytes
        switch g.below(6) {
        case 0:
            out = Array(out.prefix(g.below(out.count)))
        case 1:
            // Write an extreme value into a random 8-byte field of the ELF or program headers.
            let values: [UInt64] = [0, 1, 0xfff, 0x1000, 1 << 38, (1 << 38) - 1, 1 << 63, .max, .max - 0xfff, 0x7fff_ffff]
            let offset = g.below(64 + 56 * 8 - 8)
            let value = values[g.below(values.count)]
            for k in 0..<8 where offset + k < out.count { out[offset + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(k))) }
        case 2:
            for _ in 0..<(1 + g.below(8)) {
                let offset = g.below(min(out.count, 64 + 56 * 8))
                out[offset] ^= UInt8(truncatingIfNeeded: g.next() | 1)
            }
        case 3:
            // Make two PT_LOAD segments overlap, or point one past the end of the file.
            let phoff = 64
            let k = g.below(4)
            let base = phoff + 56 * k
            if base + 56 <= out.count {
                out[base + 16 + g.below(3)] = UInt8(truncatingIfNeeded: g.next())
                out[base + 8 + g.below(4)] = UInt8(truncatingIfNeeded: g.next())
            }
        default:
            for _ in 0..<(1 + g.below(16)) {
                let offset = g.below(out.count)
                out[offset] = UInt8(truncatingIfNeeded: g.next())
            }
        }
        return out
    }

    @Test func mutatedELFsAreRejectedOrRunWithoutCrashing() throws {
        let original = Self.original
        try #require(!original.isEmpty)
        var g = Generator(state: 0x5eed)
        var rejected = 0
        var ran = 0
        for _ in 0..<400 {
            let bytes = Self.mutate(original, &g)
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
        var g = Generator(state: 0xf00d)
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
            case .timeLimitReached: Issue.record("unexpected time limit")
            }
        }
    }
}
