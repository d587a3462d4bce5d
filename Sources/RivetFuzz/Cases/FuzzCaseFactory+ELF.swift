/// The `elf` kind: a real program (a committed fixture) or a generated one, with its headers,
/// segments or code corrupted.
extension FuzzCaseFactory {
    /// A mutated ELF file: headers mutated (`ElfMutator.mutate`, 1...3 times), code and data
    /// corrupted (near the entry point or anywhere), or both.
    static func mutatedELF(_ random: inout SeededRandom) -> GeneratedProgram {
        var notes: [String] = []
        let original: [UInt8]
        let fixtures = FuzzCorpus.fixtures
        if !fixtures.isEmpty, random.percent(40) {
            let fixture = random.pick(fixtures)
            original = fixture.bytes
            notes.append("base: fixture \(fixture.name) (\(original.count) bytes)")
        } else {
            let base: GeneratedProgram
            switch random.below(3) {
            case 0: base = instructions(&random)
            case 1: base = control(&random)
            default: base = syscalls(&random)
            }
            original = base.bytes
            notes.append("base: generated, \(base.summary) (\(original.count) bytes)")
        }
        var bytes = original
        var g = SplitMix64(state: random.next())
        let how = random.below(10)
        if how < 4 || how >= 8 {
            let rounds = random.inRange(1...3)
            for _ in 0..<rounds { bytes = ElfMutator.mutate(bytes, &g) }
            notes.append("headers mutated \(rounds) times")
        }
        if how >= 4 {
            let count = random.inRange(1...16)
            if let entry = ElfMutator.entryFileOffset(bytes), random.percent(70) {
                bytes = ElfMutator.corrupt(bytes, in: max(0, entry - 256)..<(entry + 4096), count: count, &g)
                notes.append("\(count) bytes corrupted near the entry point (file offset 0x\(String(entry, radix: 16)))")
            } else {
                bytes = ElfMutator.corrupt(bytes, in: 64..<max(64, bytes.count), count: count, &g)
                notes.append("\(count) bytes corrupted anywhere past the ELF header")
            }
        }
        var changed = 0
        for k in 0..<min(bytes.count, original.count) where bytes[k] != original[k] { changed += 1 }
        notes.append("\(changed) bytes differ from the base; \(bytes.count) bytes in all")
        return GeneratedProgram(
            bytes: bytes, summary: "mutated ELF, " + String(notes[0].dropFirst(6)) + ", \(changed) bytes changed",
            listing: notes.joined(separator: "\n"))
    }
}
