import RivetISA

/// Random bodies with control flow: the straight-line snippets of `RandomInstructionGenerator`,
/// joined by forward jumps of every kind (conditional branches on random registers, `jal` with
/// and without a link, `jalr` through an `auipc`, compressed `c.beqz`/`c.bnez`/`c.j`) and
/// bounded loops of one or more blocks, so that block boundaries, chaining, the jump cache and
/// loop blocks all meet random code. Some loops call a function (`jal ra`, placed after the
/// body, which returns with `ret`: the calls and returns tier 2's regions follow), and some
/// dispatch through a computed `jalr` to one of four cases (the indirect jumps whose profiled
/// targets tier 2 compares with).
///
/// Every path ends: jumps only go forward, but for returns, and a loop runs its counter
/// register (`t6`, which the snippets never write) down from its start (1...4, up to 24 for a
/// dispatching loop); jumps into a loop go only to its counter set-up. `ra` is the link of
/// calls only: the snippets never write it either. CSR snippets are left out: skipping one
/// would break the generator's tracking of `frm`.
package struct RandomControlFlowBuilder {
    /// The loop counter register (t6), which snippets never write.
    package static let counter = 31  // t6
    /// The link register of calls to the body's functions (ra), which snippets never write.
    package static let link = 1

    /// A piece of the body: an instruction, or a jump to a label resolved at layout.
    enum Piece {
        case instruction(RandomInstruction)
        /// A B-type branch (or c.beqz/c.bnez when `compressed`) to `label`.
        case branch(Opcode, rs1: UInt8, rs2: UInt8, label: Int, compressed: Bool)
        /// `jal rd, label` (or `c.j` when `compressed`).
        case jump(rd: UInt8, label: Int, compressed: Bool)
        /// `auipc scratch, 0; jalr rd, offset(scratch)` to `label`.
        case indirect(rd: UInt8, scratch: UInt8, label: Int)
        /// `auipc scratch, 0; add scratch, scratch, index; jalr x0, offset(scratch)`: to `label`
        /// plus the bytes in `index`.
        case computed(scratch: UInt8, index: UInt8, label: Int)
        /// Where a label is bound.
        case label(Int)

        var length: Int {
            switch self {
            case .instruction(let i): i.length
            case .branch(_, _, _, _, let compressed), .jump(_, _, let compressed): compressed ? 2 : 4
            case .indirect: 8
            case .computed: 12
            case .label: 0
            }
        }
    }

    /// The generator of the straight-line snippets between jumps.
    package var generator: RandomInstructionGenerator
    private var pieces: [Piece] = []
    private var labels = 0

    /// A builder drawing snippets from `generator` (which it makes leave `counter` alone).
    package init(generator: RandomInstructionGenerator) {
        self.generator = generator
        self.generator.reserved = [Self.counter, Self.link]
    }

    private mutating func newLabel() -> Int {
        labels += 1
        return labels - 1
    }

    /// A snippet that is not a CSR access, or a compressed instruction.
    private mutating func group() -> [RandomInstruction] {
        if generator.compressed, generator.random.percent(15), let parcel = generator.compressedInstruction() {
            return [parcel]
        }
        let rows = generator.candidates.filter { RandomInstructionGenerator.role(of: $0.format) != .csr }
        while true {
            let snippet = generator.snippet(generator.random.pick(rows))
            if !snippet.isEmpty { return snippet }
        }
    }

    /// A forward jump of a random kind to `label`.
    private mutating func forwardJump(to label: Int) -> [Piece] {
        var g = generator
        defer { generator = g }
        switch g.random.below(10) {
        case 0..<5:
            let op = g.random.pick([Opcode.beq, .bne, .blt, .bge, .bltu, .bgeu])
            let rs1 = UInt8(g.random.below(32))
            let rs2 = UInt8(g.random.below(32))
            return [.branch(op, rs1: rs1, rs2: rs2, label: label, compressed: false)]
        case 5:
            // c.beqz / c.bnez take x8...x15.
            let op = g.random.pick([Opcode.beq, .bne])
            return [.branch(op, rs1: UInt8(8 + g.random.below(8)), rs2: 0, label: label, compressed: g.compressed)]
        case 6, 7:
            let rd: UInt8 = g.random.percent(50) ? 0 : g.destination()
            return [.jump(rd: rd, label: label, compressed: rd == 0 && g.compressed && g.random.percent(50))]
        default:
            let scratch = g.addressRegister()
            let rd: UInt8 = g.random.percent(40) ? 0 : g.destination()
            return [.indirect(rd: rd, scratch: scratch, label: label)]
        }
    }

    /// One 4-byte instruction of no role but a plain one (a case of a dispatch is one, then a
    /// jump: eight bytes).
    private mutating func plainInstruction() -> RandomInstruction {
        let rows = generator.candidates.filter { RandomInstructionGenerator.role(of: $0.format) == .plain }
        return generator.snippet(generator.random.pick(rows))[0]
    }

    private func counterStep(_ imm: Int64) -> Piece {
        .instruction(item(Instruction(opcode: .addi, rd: UInt8(Self.counter), rs1: UInt8(Self.counter), imm: imm)))
    }

    /// Units: plain groups and loops. Forward jumps go to the start of a later unit; functions
    /// the loops call follow the body's end, jumped over.
    package mutating func body(count: Int) -> [RandomInstruction] {
        pieces.removeAll()
        var unitLabels: [Int] = []
        var units: [[Piece]] = []
        var functions: [[Piece]] = []
        var total = 0
        while total < count {
            var unit: [Piece] = []
            let shape = generator.random.below(100)
            if shape < 6 {
                // A loop that calls a function: t6 = n; head: group; jal ra, f; group; t6 -= 1;
                // bnez t6, head; f: groups (a forward branch inside); ret.
                let n = generator.random.inRange(1...6)
                let head = newLabel(), function = newLabel()
                unit.append(.instruction(item(Instruction(opcode: .addi, rd: UInt8(Self.counter), rs1: 0, imm: Int64(n)))))
                unit.append(.label(head))
                let before = group(), after = group()
                unit += before.map { .instruction($0) }
                unit.append(.jump(rd: UInt8(Self.link), label: function, compressed: false))
                unit += after.map { .instruction($0) }
                unit.append(counterStep(-1))
                unit.append(.branch(.bne, rs1: UInt8(Self.counter), rs2: 0, label: head, compressed: false))
                var callee: [Piece] = [.label(function)]
                let skip = newLabel()
                let first = group()
                callee += first.map { .instruction($0) }
                if generator.random.percent(50) { callee += forwardJump(to: skip) }
                let second = group()
                callee += second.map { .instruction($0) }
                callee.append(.label(skip))
                callee.append(.instruction(item(Instruction(opcode: .jalr, rd: 0, rs1: UInt8(Self.link), imm: 0))))
                functions.append(callee)
                total += (before.count + after.count + first.count + second.count + 1) * n
            } else if shape < 10 {
                // A dispatching loop: t6 = n; head: group; k = (t6 & 3) << 3; jump to case k of
                // four (one instruction, then a jump to the latch each); latch: t6 -= 1; bnez.
                let n = generator.random.inRange(1...24)
                let head = newLabel(), cases = (0..<4).map { _ in newLabel() }, latch = newLabel()
                unit.append(.instruction(item(Instruction(opcode: .addi, rd: UInt8(Self.counter), rs1: 0, imm: Int64(n)))))
                unit.append(.label(head))
                let g = group()
                unit += g.map { .instruction($0) }
                let index = generator.addressRegister()
                var scratch = generator.addressRegister()
                while scratch == index { scratch = generator.addressRegister() }
                unit.append(.instruction(item(Instruction(opcode: .andi, rd: index, rs1: UInt8(Self.counter), imm: 3))))
                unit.append(.instruction(item(Instruction(opcode: .slli, rd: index, rs1: index, imm: 3))))
                unit.append(.computed(scratch: scratch, index: index, label: cases[0]))
                for label in cases {
                    unit.append(.label(label))
                    unit.append(.instruction(plainInstruction()))
                    unit.append(.jump(rd: 0, label: latch, compressed: false))
                }
                unit.append(.label(latch))
                unit.append(counterStep(-1))
                unit.append(.branch(.bne, rs1: UInt8(Self.counter), rs2: 0, label: head, compressed: false))
                total += (g.count + 7) * n
            } else if shape < 22 {
                // A loop: t6 = n; head: groups (with jumps forward inside); t6 -= 1; bnez t6, head.
                let n = generator.random.inRange(1...4)
                let head = newLabel()
                unit.append(.instruction(item(Instruction(opcode: .addi, rd: UInt8(Self.counter), rs1: 0, imm: Int64(n)))))
                unit.append(.label(head))
                let inner = generator.random.inRange(1...3)
                var innerLabels = (0..<inner).map { _ in newLabel() }
                let latch = newLabel()
                innerLabels.append(latch)
                for k in 0..<inner {
                    unit.append(.label(innerLabels[k]))
                    if generator.random.percent(25) {
                        let target = innerLabels[generator.random.inRange(k + 1...inner)]
                        unit += forwardJump(to: target)
                    }
                    let g = group()
                    unit += g.map { .instruction($0) }
                    total += g.count * n
                }
                unit.append(.label(latch))
                unit.append(counterStep(-1))
                unit.append(.branch(.bne, rs1: UInt8(Self.counter), rs2: 0, label: head, compressed: false))
            } else {
                let g = group()
                unit += g.map { .instruction($0) }
                total += g.count
            }
            unitLabels.append(newLabel())
            units.append(unit)
        }
        let end = newLabel()
        unitLabels.append(end)
        for (k, unit) in units.enumerated() {
            pieces.append(.label(unitLabels[k]))
            if generator.random.percent(25) {
                let target = unitLabels[generator.random.inRange(k + 1...min(units.count, k + 3))]
                pieces += forwardJump(to: target)
            }
            pieces += unit
        }
        pieces.append(.label(end))
        if !functions.isEmpty {
            let over = newLabel()
            pieces.append(.jump(rd: 0, label: over, compressed: false))
            for function in functions { pieces += function }
            pieces.append(.label(over))
        }
        return layout()
    }

    /// Resolves labels and encodes the jumps. A compressed jump that ends up out of its reach
    /// becomes a 32-bit one and the layout is redone (lengths only grow, so this ends).
    private mutating func layout() -> [RandomInstruction] {
        var offsets: [Int] = []
        var labelOffsets = [Int](repeating: 0, count: labels)
        while true {
            offsets.removeAll(keepingCapacity: true)
            var cursor = 0
            for piece in pieces {
                offsets.append(cursor)
                if case .label(let l) = piece { labelOffsets[l] = cursor }
                cursor += piece.length
            }
            var changed = false
            for k in pieces.indices {
                switch pieces[k] {
                case .branch(let op, let rs1, let rs2, let label, true)
                where Self.compressedBranch(op == .beq, rs1: rs1, offset: labelOffsets[label] - offsets[k]) == nil:
                    pieces[k] = .branch(op, rs1: rs1, rs2: rs2, label: label, compressed: false)
                    changed = true
                case .jump(let rd, let label, true) where Self.compressedJump(offset: labelOffsets[label] - offsets[k]) == nil:
                    pieces[k] = .jump(rd: rd, label: label, compressed: false)
                    changed = true
                default:
                    break
                }
            }
            if !changed { break }
        }
        var out: [RandomInstruction] = []
        for (piece, at) in zip(pieces, offsets) {
            switch piece {
            case .instruction(let i):
                out.append(i)
            case .label:
                break
            case .branch(let op, let rs1, let rs2, let label, let compressed):
                let offset = labelOffsets[label] - at
                if compressed, let parcel = Self.compressedBranch(op == .beq, rs1: rs1, offset: offset) {
                    out.append(RandomInstruction(bits: UInt32(parcel), decoded: Decoder.decodeCompressed(parcel)))
                } else {
                    out.append(item(Instruction(opcode: op, rs1: rs1, rs2: rs2, imm: Int64(offset))))
                }
            case .jump(let rd, let label, let compressed):
                let offset = labelOffsets[label] - at
                if compressed {
                    let parcel = Self.compressedJump(offset: offset)!
                    out.append(RandomInstruction(bits: UInt32(parcel), decoded: Decoder.decodeCompressed(parcel)))
                } else {
                    out.append(item(Instruction(opcode: .jal, rd: rd, imm: Int64(offset))))
                }
            case .indirect(let rd, let scratch, let label):
                let offset = labelOffsets[label] - at
                out.append(item(Instruction(opcode: .auipc, rd: scratch, imm: 0)))
                out.append(item(Instruction(opcode: .jalr, rd: rd, rs1: scratch, imm: Int64(offset))))
            case .computed(let scratch, let index, let label):
                let offset = labelOffsets[label] - at
                out.append(item(Instruction(opcode: .auipc, rd: scratch, imm: 0)))
                out.append(item(Instruction(opcode: .add, rd: scratch, rs1: scratch, rs2: index)))
                out.append(item(Instruction(opcode: .jalr, rd: 0, rs1: scratch, imm: Int64(offset))))
            }
        }
        return out
    }

    private func item(_ inst: Instruction) -> RandomInstruction {
        let bits = RandomInstructionEncoding.encodeChecked(inst)
        return RandomInstruction(bits: bits, decoded: Decoder.decode32(bits))
    }

    /// c.beqz/c.bnez rs1', offset (±256 bytes), or nil out of reach.
    package static func compressedBranch(_ equal: Bool, rs1: UInt8, offset: Int) -> UInt16? {
        guard offset >= -256, offset < 256, offset & 1 == 0, (8...15).contains(rs1) else { return nil }
        let o = UInt16(truncatingIfNeeded: offset)
        func bit(_ n: Int) -> UInt16 { (o >> UInt16(n)) & 1 }
        var parcel: UInt16 = (equal ? 6 : 7) << 13 | 1
        parcel |= bit(8) << 12 | bit(4) << 11 | bit(3) << 10 | bit(7) << 6 | bit(6) << 5 | bit(2) << 4 | bit(1) << 3
            | bit(5) << 2
        parcel |= UInt16(rs1 - 8) << 7
        return parcel
    }

    /// c.j offset (±2 KiB), or nil out of reach.
    package static func compressedJump(offset: Int) -> UInt16? {
        guard offset >= -2048, offset < 2048, offset & 1 == 0 else { return nil }
        let o = UInt16(truncatingIfNeeded: offset)
        func bit(_ n: Int) -> UInt16 { (o >> UInt16(n)) & 1 }
        return 5 << 13 | 1 | bit(11) << 12 | bit(4) << 11 | bit(9) << 10 | bit(8) << 9 | bit(10) << 8 | bit(6) << 7
            | bit(7) << 6 | bit(3) << 5 | bit(2) << 4 | bit(1) << 3 | bit(5) << 2
    }
}
