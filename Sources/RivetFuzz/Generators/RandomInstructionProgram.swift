import RivetISA

/// A generated guest program: a prologue that loads every register and fcsr from a data block,
/// a random body, and an epilogue that writes x1...x31, f0...f31, fcsr and the scratch area to
/// stdout (two write syscalls) and exits with status 0. Everything sits at fixed addresses, so
/// two correct implementations print the same bytes. The body crosses a page boundary.
///
/// With `repetitions` above 1, a counter in the data block sends the program back to the
/// prologue after the body, so that prologue and body run that many times (each time from the
/// initial registers, with the scratch area as the last round left it) and blocks turn hot
/// enough for a tiered engine to compile them.
package struct RandomInstructionProgram {
    /// Where things are.
    package typealias Layout = RandomInstructionLayout
    /// The encoder of the fixed parts.
    package typealias Asm = RandomInstructionEncoding

    /// The registers and scratch area the prologue loads.
    package var initial: RandomMachineState
    /// The generated instructions between prologue and epilogue.
    package var body: [RandomInstruction]
    /// How many times prologue and body run before the epilogue (1: once, no loop).
    package var repetitions: Int

    /// A program running `body` from `initial`, `repetitions` times.
    package init(initial: RandomMachineState, body: [RandomInstruction], repetitions: Int = 1) {
        self.initial = initial
        self.body = body
        self.repetitions = max(1, repetitions)
    }

    /// After the body when `repetitions > 1`: decrement the counter in memory and go back to
    /// the prologue (at `entry`) until it reaches 0. Uses t0 and t1, which the prologue
    /// reloads. `at` is the loop's own guest address.
    func loopBack(at address: UInt64) -> [UInt32] {
        let t0 = 5, t1 = 6
        var words = Asm.loadAddress(t0, Layout.repeatCounter)
        words += [Asm.ld(t1, 0, t0), Asm.addi(t1, t1, -1), Asm.sd(t1, 0, t0)]
        // beq t1, zero, +8; jal zero, entry
        words.append(Asm.encodeChecked(Instruction(opcode: .beq, rs1: UInt8(t1), rs2: 0, imm: 8)))
        let jalAddress = address + UInt64(4 * words.count)
        let back = Int64(entry) - Int64(jalAddress)
        words.append(Asm.encodeChecked(Instruction(opcode: .jal, rd: 0, imm: back)))
        return words
    }

    /// The prologue: x1 points at the initial state; fcsr, f0...f31, x2...x31, then x1 itself.
    package static var prologue: [UInt32] {
        var words = Asm.loadAddress(1, Layout.initialState)
        words.append(Asm.ld(2, 8 * 64, 1))
        words.append(Asm.csrrw(0, .fcsr, 2))
        for f in 0..<32 { words.append(Asm.fld(f, 8 * (32 + f), 1)) }
        for x in 2..<32 { words.append(Asm.ld(x, 8 * x, 1)) }
        words.append(Asm.ld(1, 8, 1))
        return words
    }

    /// The epilogue: parks x1 in the scratch slot the body never touches, dumps the registers
    /// through x1, then writes the dump and the scratch area and exits.
    package static var epilogue: [UInt32] {
        let base = Layout.baseRegister
        var words = [Asm.sd(1, Layout.savedSlot, base)]
        words += Asm.loadAddress(1, Layout.dump)
        for x in 2..<32 { words.append(Asm.sd(x, 8 * x, 1)) }
        words.append(Asm.ld(2, Layout.savedSlot, base))
        words.append(Asm.sd(2, 8, 1))
        for f in 0..<32 { words.append(Asm.fsd(f, 8 * (32 + f), 1)) }
        words.append(Asm.csrr(2, .fcsr))
        words.append(Asm.sd(2, 8 * 64, 1))
        let a0 = 10, a1 = 11, a2 = 12, a7 = 17
        // write(1, dump, 520)
        words += [Asm.addi(a0, 0, 1), Asm.addi(a1, 1, 0), Asm.addi(a2, 0, Layout.stateSize), Asm.addi(a7, 0, 64), Asm.ecall]
        // write(1, scratch, 4096)
        words += [Asm.addi(a0, 0, 1), Asm.addi(a1, base, -2048), Asm.lui(a2, 1), Asm.addi(a7, 0, 64), Asm.ecall]
        // exit(0)
        words += [Asm.addi(a0, 0, 0), Asm.addi(a7, 0, 93), Asm.ecall]
        return words
    }

    /// Bytes of zeros before the prologue, chosen so that the first 32-bit instruction in the
    /// second half of the body starts 2 bytes before a page boundary: every sequence has an
    /// instruction straddling two pages, and blocks that cross a page.
    package var padding: Int {
        let prologueBytes = 4 * Self.prologue.count
        var offset = 0
        var straddler: Int? = nil
        for (k, inst) in body.enumerated() {
            if k >= body.count / 2 && inst.length == 4 {
                straddler = offset
                break
            }
            offset += inst.length
        }
        let target = 4094 - prologueBytes - (straddler ?? offset)
        return ((target % 4096) + 4096) % 4096
    }

    /// Guest address of the prologue, where the program starts.
    package var entry: UInt64 { Layout.textAddress + UInt64(padding) }

    /// Guest address of the first body instruction.
    package var bodyAddress: UInt64 { entry + UInt64(4 * Self.prologue.count) }

    /// The program as an ELF file: the text segment (padding, prologue, body, epilogue) and the
    /// data segment (initial state, scratch area, dump area).
    package var elf: ElfWriter {
        var text = [UInt8](repeating: 0, count: padding)
        func emit(_ bits: UInt32, _ length: Int) {
            for k in 0..<length { text.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt32(k)))) }
        }
        for word in Self.prologue { emit(word, 4) }
        for inst in body { emit(inst.bits, inst.length) }
        if repetitions > 1 {
            for word in loopBack(at: Layout.textAddress + UInt64(text.count)) { emit(word, 4) }
        }
        for word in Self.epilogue { emit(word, 4) }

        var data = initial.registerBytes
        data += [UInt8](repeating: 0, count: Int(Layout.scratch - Layout.initialState) - data.count)
        data += initial.scratch
        var dataSize = Layout.dump + UInt64(Layout.stateSize) - Layout.dataAddress
        if repetitions > 1 {
            data += [UInt8](repeating: 0, count: Int(Layout.repeatCounter - Layout.dataAddress) - data.count)
            for k in 0..<8 { data.append(UInt8(truncatingIfNeeded: UInt64(repetitions) >> (8 * UInt64(k)))) }
            dataSize = UInt64(data.count)
        }
        return ElfWriter(
            entry: entry,
            segments: [
                .init(address: Layout.textAddress, bytes: text, memorySize: UInt64(text.count), executable: true),
                .init(address: Layout.dataAddress, bytes: data, memorySize: dataSize, writable: true),
            ])
    }

    /// The body, one instruction a line: address, encoding, description.
    package var listing: String {
        var lines: [String] = []
        var pc = bodyAddress
        for inst in body {
            let bits = inst.length == 2 ? "    " + paddedHex(inst.bits, 4) : paddedHex(inst.bits, 8)
            lines.append("  \(paddedHex(pc, 5)):  \(bits)  \(RandomInstructionEncoding.describe(inst.decoded))")
            pc += UInt64(inst.length)
        }
        return lines.joined(separator: "\n")
    }

    /// The initial registers, four a line, and fcsr.
    package var initialListing: String {
        var lines: [String] = []
        for row in stride(from: 0, to: 32, by: 4) {
            lines.append(
                "  " + (row..<row + 4).map { "\(integerRegisterNames[$0])=\(paddedHex(initial.x[$0], 16))" }.joined(separator: " "))
        }
        for row in stride(from: 0, to: 32, by: 4) {
            lines.append(
                "  " + (row..<row + 4).map { "\(floatRegisterNames[$0])=\(paddedHex(initial.f[$0], 16))" }.joined(separator: " "))
        }
        lines.append("  fcsr=\(paddedHex(initial.fcsr, 2)) (frm \(initial.fcsr >> 5), fflags 0x\(paddedHex(initial.fcsr & 31, 2)))")
        return lines.joined(separator: "\n")
    }

    /// What differs between two final states, a line per register or scratch range, with the
    /// initial value for context.
    package func differences(
        _ state: RandomMachineState, _ reference: RandomMachineState, names: (String, String) = ("rivet", "qemu")
    ) -> [String] {
        let (mine, theirs) = names
        var lines: [String] = []
        for r in 1..<32 where state.x[r] != reference.x[r] {
            lines.append(
                "  x\(r) (\(integerRegisterNames[r])): \(mine) 0x\(paddedHex(state.x[r], 16)), \(theirs) 0x\(paddedHex(reference.x[r], 16)), initially 0x\(paddedHex(initial.x[r], 16))"
            )
        }
        for r in 0..<32 where state.f[r] != reference.f[r] {
            lines.append(
                "  f\(r) (\(floatRegisterNames[r])): \(mine) 0x\(paddedHex(state.f[r], 16)), \(theirs) 0x\(paddedHex(reference.f[r], 16)), initially 0x\(paddedHex(initial.f[r], 16))"
            )
        }
        if state.fcsr != reference.fcsr {
            lines.append(
                "  fcsr: \(mine) 0x\(paddedHex(state.fcsr, 2)), \(theirs) 0x\(paddedHex(reference.fcsr, 2)), initially 0x\(paddedHex(initial.fcsr, 2))"
            )
        }
        var k = 0
        while k < state.scratch.count {
            guard state.scratch[k] != reference.scratch[k] else {
                k += 1
                continue
            }
            let start = k
            while k < state.scratch.count && state.scratch[k] != reference.scratch[k] { k += 1 }
            func bytes(_ state: [UInt8]) -> String { state[start..<k].map { paddedHex($0, 2) }.joined() }
            lines.append(
                "  scratch a5\(start - 2048 >= 0 ? "+" : "")\(start - 2048) (\(k - start) bytes): \(mine) \(bytes(state.scratch)), \(theirs) \(bytes(reference.scratch))"
            )
        }
        return lines
    }
}
