import RivetISA

/// The `instructions` and `control` kinds: generated code, often with flipped bits.
extension FuzzCaseFactory {
    /// A random instruction stream of 20...150 instructions, run 1...8 times; in half the cases
    /// with 1...3 of its words mutated.
    static func instructions(_ random: inout SeededRandom) -> GeneratedProgram {
        let (extensions, compressed) = Self.extensions(&random)
        var generator = RandomInstructionGenerator(seed: random.next(), extensions: extensions, compressed: compressed)
        let initial = generator.initialState()
        let body = generator.body(count: random.inRange(20...150))
        let repetitions = random.pick([1, 2, 3, 4, 6, 8])
        let mutations = random.percent(50) ? random.inRange(1...3) : 0
        return generated(
            RandomInstructionProgram(initial: initial, body: body, repetitions: repetitions), mutations: mutations,
            random: &random, what: "instructions")
    }

    /// A random control-flow program of 20...120 instructions, run 1...5 times; in one case of
    /// three with 1...2 of its words mutated.
    static func control(_ random: inout SeededRandom) -> GeneratedProgram {
        let (extensions, compressed) = Self.extensions(&random)
        let generator = RandomInstructionGenerator(seed: random.next(), extensions: extensions, compressed: compressed)
        var builder = RandomControlFlowBuilder(generator: generator)
        let initial = builder.generator.initialState()
        let body = builder.body(count: random.inRange(20...120))
        let repetitions = random.pick([1, 2, 3, 5])
        let mutations = random.percent(33) ? random.inRange(1...2) : 0
        return generated(
            RandomInstructionProgram(initial: initial, body: body, repetitions: repetitions), mutations: mutations,
            random: &random, what: "instructions with control flow")
    }

    /// The program with `mutations` of its body's words changed, as a `GeneratedProgram`.
    private static func generated(
        _ original: RandomInstructionProgram, mutations: Int, random: inout SeededRandom, what: String
    ) -> GeneratedProgram {
        var program = original
        var changed: [String] = []
        for _ in 0..<mutations {
            // A mutation that would read the real-time clock is drawn again (a few times).
            for _ in 0..<8 {
                var candidate = program
                let k = random.below(candidate.body.count)
                let note = mutate(&candidate.body[k], &random)
                if !readsClock(candidate.elf.segments[0].bytes) {
                    program = candidate
                    changed.append("  body[\(k)]: \(note)")
                    break
                }
            }
        }
        var summary = "\(program.body.count) \(what)"
        if !changed.isEmpty { summary += ", \(changed.count) mutated" }
        if program.repetitions > 1 { summary += ", \(program.repetitions) rounds" }
        var listing = "initial state:\n" + program.initialListing + "\nbody (as run):\n" + program.listing
        if !changed.isEmpty { listing += "\nmutations:\n" + changed.joined(separator: "\n") }
        return GeneratedProgram(bytes: program.elf.bytes(), summary: summary, listing: listing)
    }

    /// Flips 1...3 random bits of the instruction (or, one time in ten, replaces it with random
    /// bits), keeping its length; says what changed.
    static func mutate(_ instruction: inout RandomInstruction, _ random: inout SeededRandom) -> String {
        let width = UInt32(8 * instruction.length)
        let mask: UInt32 = width == 32 ? .max : (1 << width) - 1
        let before = instruction.bits
        var bits = before
        if random.percent(10) {
            bits = UInt32(truncatingIfNeeded: random.next()) & mask
        } else {
            for _ in 0..<random.inRange(1...3) { bits ^= 1 << UInt32(random.below(Int(width))) }
        }
        let decoded =
            instruction.length == 4 ? Decoder.decode32(bits) : Decoder.decodeCompressed(UInt16(truncatingIfNeeded: bits))
        instruction = RandomInstruction(bits: bits, decoded: decoded)
        let digits = instruction.length == 4 ? 8 : 4
        return "0x\(paddedHex(before, digits)) -> 0x\(paddedHex(bits, digits))"
    }

    /// Whether any instruction that could be fetched from `text` (at any even offset) reads the
    /// real-time clock (`time`, `timeh`): the only counters whose value differs between runs of
    /// the same program (cycle and instret count instructions).
    static func readsClock(_ text: [UInt8]) -> Bool {
        var offset = 0
        while offset + 4 <= text.count {
            let word = UInt32(text[offset]) | UInt32(text[offset + 1]) << 8 | UInt32(text[offset + 2]) << 16
                | UInt32(text[offset + 3]) << 24
            // SYSTEM opcode with a CSR funct3: the CSR number is bits 31:20.
            if word & 0x7f == 0x73, (word >> 12) & 3 != 0 {
                let csr = word >> 20
                if csr == 0xc01 || csr == 0xc81 { return true }
            }
            offset += 2
        }
        return false
    }
}
