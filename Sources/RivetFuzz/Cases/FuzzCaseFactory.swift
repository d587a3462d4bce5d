import Rivet
import RivetISA

/// Makes the cases of a campaign: case `index` of seed `seed` follows from those two numbers
/// (and the list of kinds) alone, so any case can be made again without the ones before it.
package struct FuzzCaseFactory: Sendable {
    /// The campaign's seed.
    package var seed: UInt64
    /// The kinds cases are drawn from, each equally often.
    package var kinds: [FuzzKind]

    /// A factory for `seed`, drawing from `kinds` (all by default).
    package init(seed: UInt64, kinds: [FuzzKind] = FuzzKind.allCases) {
        self.seed = seed
        self.kinds = kinds.isEmpty ? FuzzKind.allCases : kinds
    }

    /// The seed of case `index` (SplitMix64 of the campaign seed and the index).
    package static func caseSeed(_ seed: UInt64, _ index: Int) -> UInt64 {
        var z = seed &+ UInt64(bitPattern: Int64(index)) &* 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// The kind of case `index`.
    package func kind(of index: Int) -> FuzzKind {
        kinds[Int(Self.caseSeed(seed, index) % UInt64(kinds.count))]
    }

    /// Case `index`.
    package func make(_ index: Int) -> FuzzCase {
        let caseSeed = Self.caseSeed(seed, index)
        var random = SeededRandom(seed: caseSeed ^ 0xf022_ca5e)
        let setup = FuzzEngineSetup(
            codeCacheBytes: random.pick([64 << 10, 1 << 20, 16 << 20]), compileThreads: random.pick([0, 0, 1]),
            cachePolicy: random.pick([.lru, .lru, .lfu, .value, .flush]))
        let kind = kind(of: index)
        let made: GeneratedProgram
        switch kind {
        case .instructions: made = Self.instructions(&random)
        case .control: made = Self.control(&random)
        case .elf: made = Self.mutatedELF(&random)
        case .syscalls: made = Self.syscalls(&random)
        }
        return FuzzCase(
            seed: seed, index: index, caseSeed: caseSeed, kind: kind, program: made.bytes, summary: made.summary,
            listing: made.listing, setup: setup)
    }

    /// A program as a kind's generator returns it.
    struct GeneratedProgram {
        /// The ELF file.
        var bytes: [UInt8]
        /// One line saying what it is (`FuzzCase.summary`).
        var summary: String
        /// The details (`FuzzCase.listing`).
        var listing: String
    }

    /// The extensions generated code draws from: all Rivet executes mostly, sometimes fewer.
    static func extensions(_ random: inout SeededRandom) -> (Set<Extension>, compressed: Bool) {
        guard random.percent(20) else { return (Extension.all, true) }
        var some: Set<Extension> = [.i]
        for e in Extension.allCases where e != .i && random.percent(50) { some.insert(e) }
        if some.contains(.d) { some.insert(.f) }
        return (some, random.percent(50))
    }

    /// A syscall program of 20...60 calls.
    static func syscalls(_ random: inout SeededRandom) -> GeneratedProgram {
        var generator = SyscallProgramGenerator(seed: random.next())
        let program = generator.program(calls: random.inRange(20...60))
        return GeneratedProgram(
            bytes: program.elf.bytes(), summary: "\(program.calls.count) syscalls",
            listing: "calls:\n" + program.listing)
    }
}
