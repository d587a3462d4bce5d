import RivetISA

/// One instruction of a generated body: its encoding and what it decodes to.
package struct RandomInstruction {
    /// The encoding: a 32-bit word, or a 16-bit parcel in the low half.
    package var bits: UInt32
    /// What the encoding decodes to (its length is the encoding's).
    package var decoded: Instruction
    /// Bytes of the encoding: 2 or 4.
    package var length: Int { Int(decoded.length) }

    /// An instruction encoded as `bits`, decoding to `decoded`.
    package init(bits: UInt32, decoded: Instruction) {
        self.bits = bits
        self.decoded = decoded
    }
}

/// Generates random straight-line code: every 32-bit instruction form of `EncodingTable.rows`
/// in the extensions asked for, except control transfer, `ecall`/`ebreak` and `fence.i`, plus
/// random compressed encodings. Operands are random, with these constraints so that the code cannot
/// fault or depend on anything but its initial state:
///
/// - `a5` (`RandomInstructionLayout.baseRegister`) is never written. Loads and stores use it as
///   their base with an offset that stays inside the scratch area (misaligned ones included);
///   some loads read the program's own code through an `auipc` just before them.
/// - Atomics get their address from an `addi t, a5, offset` just before them (naturally
///   aligned). LR is always followed by its SC, with only non-memory instructions between
///   them, so SC succeeds on every implementation; a lone SC always fails.
/// - CSR instructions touch only fflags, frm and fcsr (the counters differ from run to run),
///   and `frm` is tracked so that it always holds a valid mode: a dynamic rounding mode can
///   never be illegal. Register-form writes take their value from an `addi` just before.
/// - Rounding-mode fields are random among the valid modes and `dyn`.
/// - Cache-block operations get their address from an `addi t, a5, offset` just before them,
///   such that the whole 64-byte block lies in the scratch area. `cbo.inval` is left out: it
///   raises SIGILL in user mode, which would end the program.
package struct RandomInstructionGenerator {
    /// The source of every choice.
    package var random: SeededRandom
    /// The extensions to draw 32-bit forms from.
    package var extensions: Set<Extension>
    /// Whether to mix in compressed encodings.
    package var compressed: Bool
    /// Forms never drawn (for a reference that gets them wrong).
    package var excluded: Set<Opcode> = []
    /// The rounding mode `frm` holds at the current point of the body.
    private(set) var frm: UInt64 = 0

    private let base = RandomInstructionLayout.baseRegister
    /// Registers the body never writes besides the base (a loop counter and a link register in
    /// branchy bodies).
    package var reserved: Set<Int> = []

    /// A generator whose choices follow from `seed`, drawing from `extensions` (and compressed
    /// encodings when `compressed`).
    package init(seed: UInt64, extensions: Set<Extension>, compressed: Bool) {
        random = SeededRandom(seed: seed)
        self.extensions = extensions
        self.compressed = compressed
    }

    /// How a form is generated.
    package enum Role {
        case excluded, plain, load, store, atomic, loadReserved, csr, cacheBlock
    }

    /// How forms of `format` are generated.
    package static func role(of format: Format) -> Role {
        switch format {
        case .none, .b, .j, .jalr, .system: .excluded
        case .load, .fload: .load
        case .s, .fstore: .store
        case .amo: .atomic
        case .lr: .loadReserved
        case .csr, .csrImm: .csr
        case .cbo: .cacheBlock
        case .r, .i, .shift64, .shift32, .u, .fence, .fr4, .frm, .fr, .funaryRM, .fcmp, .fToInt,
            .fToIntRaw, .intToF, .intToFRaw, .unary, .fli:
            .plain
        }
    }

    /// Bytes each memory form accesses.
    package static let accessSize: [Opcode: Int] = [
        .lb: 1, .lbu: 1, .sb: 1, .lh: 2, .lhu: 2, .sh: 2, .lw: 4, .lwu: 4, .sw: 4, .flw: 4, .fsw: 4,
        .ld: 8, .sd: 8, .fld: 8, .fsd: 8,
        .lr_w: 4, .sc_w: 4, .amoswap_w: 4, .amoadd_w: 4, .amoxor_w: 4, .amoand_w: 4, .amoor_w: 4,
        .amomin_w: 4, .amomax_w: 4, .amominu_w: 4, .amomaxu_w: 4,
        .lr_d: 8, .sc_d: 8, .amoswap_d: 8, .amoadd_d: 8, .amoxor_d: 8, .amoand_d: 8, .amoor_d: 8,
        .amomin_d: 8, .amomax_d: 8, .amominu_d: 8, .amomaxu_d: 8,
    ]

    /// The forms a body draws from.
    package var candidates: [EncodingRow] {
        EncodingTable.rows.filter {
            Self.role(of: $0.format) != .excluded && extensions.contains($0.isa) && $0.opcode != .cbo_inval
                && !excluded.contains($0.opcode)
        }
    }

    // MARK: Initial state

    /// Integer values worth starting from: around sign and width boundaries.
    package static let integerEdges: [UInt64] = [
        0, 1, 2, 3, 31, 32, 63, 64, 0x7ff, 0x800, 0xfff, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff,
        0x1_0000_0000, 0xffff_ffff_8000_0000, 0xffff_ffff_7fff_ffff, 0x7fff_ffff_ffff_ffff,
        0x8000_0000_0000_0000, 0xffff_ffff_ffff_ffff, 0xffff_ffff_ffff_fffe, 0xffff_ffff_ffff_f800,
        0x0123_4567_89ab_cdef,
    ]

    /// Doubles worth starting from: zeros, ones, infinities, NaNs (quiet, signalling, with
    /// payloads), subnormals, extremes, the edges of integer conversion.
    package static let doubleEdges: [UInt64] = [
        0, 0x8000_0000_0000_0000, 0x3ff0_0000_0000_0000, 0xbff0_0000_0000_0000, 0x4000_0000_0000_0000,
        0x3fe0_0000_0000_0000, 0x3ff8_0000_0000_0000, 0x4004_0000_0000_0000, 0xc004_0000_0000_0000,
        0x7ff0_0000_0000_0000, 0xfff0_0000_0000_0000, 0x7ff8_0000_0000_0000, 0xfff8_0000_0000_0000,
        0x7ff4_0000_0000_0000, 0x7ff0_0000_0000_0001, 0x7ff8_0000_0000_1234, 0xfff0_0000_0000_0001,
        0x0000_0000_0000_0001, 0x000f_ffff_ffff_ffff, 0x8000_0000_0000_0001, 0x800f_ffff_ffff_ffff,
        0x0010_0000_0000_0000, 0x8010_0000_0000_0000, 0x7fef_ffff_ffff_ffff, 0xffef_ffff_ffff_ffff,
        0x41df_ffff_ffc0_0000, 0x41e0_0000_0000_0000, 0xc1e0_0000_0000_0000, 0xc1e0_0000_0020_0000,
        0x41f0_0000_0000_0000, 0x43e0_0000_0000_0000, 0xc3e0_0000_0000_0000, 0x43f0_0000_0000_0000,
        0x4330_0000_0000_0000, 0x3ca0_0000_0000_0000, 0x3fd5_5555_5555_5555,
    ]

    /// Singles worth starting from, as `doubleEdges`.
    package static let singleEdges: [UInt32] = [
        0, 0x8000_0000, 0x3f80_0000, 0xbf80_0000, 0x4000_0000, 0x3f00_0000, 0x3fc0_0000, 0x4020_0000,
        0xc020_0000, 0x7f80_0000, 0xff80_0000, 0x7fc0_0000, 0xffc0_0000, 0x7fa0_0000, 0x7f80_0001,
        0x7fc0_1234, 0xff80_0001, 0x0000_0001, 0x007f_ffff, 0x8000_0001, 0x807f_ffff, 0x0080_0000,
        0x8080_0000, 0x7f7f_ffff, 0xff7f_ffff, 0x4eff_ffff, 0x4f00_0000, 0xcf00_0000, 0x4f80_0000,
        0x5f00_0000, 0xdf00_0000, 0x5f80_0000, 0x4b00_0000, 0x3eaa_aaab, 0x3380_0000,
    ]

    private static func box(_ single: UInt32) -> UInt64 { 0xffff_ffff_0000_0000 | UInt64(single) }

    /// A value for an integer register or memory: an edge, a small number, random bits.
    package mutating func integerValue() -> UInt64 {
        switch random.below(10) {
        case 0..<4: return random.pick(Self.integerEdges)
        case 4: return UInt64(bitPattern: Int64(random.inRange(-64...64)))
        case 5, 6: return random.next()
        case 7: return UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: random.next())))
        case 8: return UInt64(random.pick(Self.singleEdges))
        default: return random.pick(Self.doubleEdges)
        }
    }

    /// A value for an FP register: an edge (boxed single or double), an unboxed single, a
    /// moderate number, random bits.
    package mutating func floatValue() -> UInt64 {
        switch random.below(20) {
        case 0..<7: return random.pick(Self.doubleEdges)
        case 7..<13: return Self.box(random.pick(Self.singleEdges))
        case 13, 14:
            // A single that is not properly NaN-boxed: reads as the canonical NaN.
            let upper = random.percent(50) ? 0 : random.next() & 0xffff_fffe_0000_0000
            return upper | UInt64(random.pick(Self.singleEdges))
        case 15, 16:
            // A double of moderate magnitude, random mantissa.
            let exponent = UInt64(random.inRange(0x3c0...0x440))
            return (random.next() & 0x800f_ffff_ffff_ffff) | exponent << 52
        case 17, 18:
            let exponent = UInt32(random.inRange(0x60...0xa0))
            return Self.box((UInt32(truncatingIfNeeded: random.next()) & 0x807f_ffff) | exponent << 23)
        default:
            return random.next()
        }
    }

    /// Registers with interesting values, a valid `frm`, and a scratch area full of values worth
    /// loading.
    package mutating func initialState() -> RandomMachineState {
        var state = RandomMachineState()
        for r in 1..<32 { state.x[r] = integerValue() }
        state.x[base] = RandomInstructionLayout.base
        for r in 0..<32 { state.f[r] = floatValue() }
        frm = UInt64(random.below(5))
        state.fcsr = frm << 5 | UInt64(random.below(32))
        for k in 0..<(RandomInstructionLayout.scratchSize / 8) {
            let value = random.percent(50) ? integerValue() : floatValue()
            for b in 0..<8 { state.scratch[8 * k + b] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(b))) }
        }
        return state
    }

    // MARK: Operands

    /// An integer destination: anything but the base register.
    package mutating func destination() -> UInt8 {
        while true {
            let r = random.below(32)
            if r != base && !reserved.contains(r) { return UInt8(r) }
        }
    }

    /// A register for an address: neither x0 nor the base register.
    package mutating func addressRegister() -> UInt8 {
        while true {
            let r = random.below(32)
            if r != base && r != 0 && !reserved.contains(r) { return UInt8(r) }
        }
    }

    /// A register of class `cls`; an integer destination is never the base register.
    package mutating func register(for cls: RegisterClass, destination isDestination: Bool) -> UInt8 {
        switch cls {
        case .integer: isDestination ? destination() : UInt8(random.below(32))
        case .float: UInt8(random.below(32))
        case .none: 0
        }
    }

    /// A 12-bit signed immediate, edges often.
    package mutating func immediate12() -> Int64 {
        if random.percent(30) { return random.pick([0, 1, -1, 2, 31, 32, 63, 2047, -2048, 0x7f0, -0x800 + 1]) }
        return Int64(random.inRange(-2048...2047))
    }

    /// A static rounding mode or `dyn`.
    package mutating func roundingMode() -> UInt8 { random.pick([0, 1, 2, 3, 4, 7]) }

    /// An offset from the base register for an access of `size` bytes, inside the scratch area
    /// and clear of the epilogue's slot; aligned when `aligned`.
    /// Two in five land in a small hot window, so that accesses overlap often.
    package mutating func offset(size: Int, aligned: Bool) -> Int64 {
        let hot = random.percent(40)
        let low = hot ? -64 : -2048
        let high = hot ? 64 - size : RandomInstructionLayout.savedSlot - size
        if aligned { return Int64(size * random.inRange((low / size)...(high / size))) }
        return Int64(random.inRange(low...high))
    }

    // MARK: Bodies

    /// A body of at least `count` instructions.
    package mutating func body(count: Int) -> [RandomInstruction] {
        let rows = candidates
        var body: [RandomInstruction] = []
        while body.count < count {
            if compressed, random.percent(15), let parcel = compressedInstruction() {
                body.append(parcel)
                continue
            }
            body += snippet(random.pick(rows))
        }
        return body
    }

    private func item(_ inst: Instruction) -> RandomInstruction {
        let bits = RandomInstructionEncoding.encodeChecked(inst)
        return RandomInstruction(bits: bits, decoded: Decoder.decode32(bits))
    }

    /// A form with random operands; the base register is never its integer destination.
    package mutating func plain(_ row: EncodingRow, avoiding avoided: UInt8? = nil) -> Instruction {
        let format = row.format
        var inst = Instruction(opcode: row.opcode)
        repeat {
            inst.rd = register(for: format.rdClass, destination: true)
        } while format.rdClass == .integer && avoided != nil && inst.rd == avoided
        inst.rs1 = register(for: format.rs1Class, destination: false)
        inst.rs2 = register(for: format.rs2Class, destination: false)
        inst.rs3 = register(for: format.rs3Class, destination: false)
        if format.hasRoundingMode { inst.rm = roundingMode() }
        switch format {
        case .i:
            inst.imm = immediate12()
        case .shift64:
            inst.imm = random.percent(40) ? random.pick([0, 1, 31, 32, 33, 63]) : Int64(random.below(64))
        case .shift32:
            inst.imm = random.percent(40) ? random.pick([0, 1, 15, 16, 31]) : Int64(random.below(32))
        case .u:
            let upper = random.percent(30) ? random.pick([0, 1, 0x7ffff, 0x80000, 0xfffff]) : UInt32(random.below(1 << 20))
            inst.imm = Int64(Int32(bitPattern: upper << 12))
        case .fli:
            inst.imm = Int64(random.below(32))
        case .fence:
            if random.percent(20) {
                inst.imm = 0x833  // fence.tso
            } else {
                inst.imm = Int64(random.below(16) << 4 | random.below(16))
            }
        case .none, .r, .load, .s, .b, .j, .jalr, .system, .csr, .csrImm, .amo, .lr, .fload, .fstore,
            .fr4, .frm, .fr, .funaryRM, .fcmp, .fToInt, .fToIntRaw, .intToF, .intToFRaw, .unary, .cbo:
            break
        }
        return inst
    }

    /// The instructions that realise one drawn form.
    package mutating func snippet(_ row: EncodingRow) -> [RandomInstruction] {
        switch Self.role(of: row.format) {
        case .excluded:
            return []
        case .plain:
            return [item(plain(row))]
        case .load, .store:
            var inst = Instruction(opcode: row.opcode)
            let size = Self.accessSize[row.opcode] ?? 1
            inst.rs1 = UInt8(base)
            inst.imm = offset(size: size, aligned: random.percent(60))
            if row.format.rdClass != .none { inst.rd = register(for: row.format.rdClass, destination: true) }
            if row.format.rs2Class != .none { inst.rs2 = register(for: row.format.rs2Class, destination: false) }
            if Self.role(of: row.format) == .load && random.percent(10) {
                // Read the code itself: the prologue lies before and the epilogue after, so
                // 256 bytes either way stay inside the text.
                let address = addressRegister()
                inst.rs1 = address
                inst.imm = Int64(random.inRange(-256...256))
                if row.format.rdClass == .integer { while inst.rd == address { inst.rd = destination() } }
                return [item(Instruction(opcode: .auipc, rd: address, imm: 0)), item(inst)]
            }
            return [item(inst)]
        case .atomic:
            // An AMO, or a lone SC (which fails: no reservation is ever left open).
            let size = Self.accessSize[row.opcode] ?? 8
            let address = addressRegister()
            var inst = Instruction(opcode: row.opcode)
            inst.rd = destination()
            inst.rs1 = address
            inst.rs2 = UInt8(random.below(32))
            inst.rm = UInt8(random.below(4))
            let setup = Instruction(
                opcode: .addi, rd: address, rs1: UInt8(base), imm: offset(size: size, aligned: true))
            return [item(setup), item(inst)]
        case .loadReserved:
            // LR, a few non-memory instructions that leave the address alone, then the SC.
            let size = Self.accessSize[row.opcode] ?? 8
            let address = addressRegister()
            let setup = Instruction(
                opcode: .addi, rd: address, rs1: UInt8(base), imm: offset(size: size, aligned: true))
            var lr = Instruction(opcode: row.opcode)
            repeat { lr.rd = destination() } while lr.rd == address
            lr.rs1 = address
            lr.rm = UInt8(random.below(4))
            var result = [item(setup), item(lr)]
            let fillers = candidates.filter { Self.role(of: $0.format) == .plain }
            for _ in 0..<random.below(4) {
                result.append(item(plain(random.pick(fillers), avoiding: address)))
            }
            var sc = Instruction(opcode: row.opcode == .lr_w ? .sc_w : .sc_d)
            sc.rd = destination()
            sc.rs1 = address
            sc.rs2 = UInt8(random.below(32))
            sc.rm = UInt8(random.below(4))
            result.append(item(sc))
            return result
        case .csr:
            return csrSnippet(row)
        case .cacheBlock:
            // Any address whose 64-byte block stays in the scratch area, clear of the saved slot.
            let address = addressRegister()
            let highest = (RandomInstructionLayout.savedSlot / 64) * 64 - 1
            let offset = random.percent(40) ? random.inRange(-64...63) : random.inRange(-2048...highest)
            let setup = Instruction(opcode: .addi, rd: address, rs1: UInt8(base), imm: Int64(offset))
            return [item(setup), item(Instruction(opcode: row.opcode, rs1: address))]
        }
    }

    /// A CSR instruction on fflags, frm or fcsr that leaves `frm` valid, with the `addi` that
    /// makes its source value when it has a register source.
    package mutating func csrSnippet(_ row: EncodingRow) -> [RandomInstruction] {
        let csr = random.pick([CSR.fflags, .frm, .fcsr])
        let op = row.opcode
        let immediate = row.format == .csrImm
        let writesAll = op == .csrrw || op == .csrrwi
        let sets = op == .csrrs || op == .csrrsi
        // The rounding mode after writing `value` (as the CSR instruction sees it).
        func frmAfter(_ value: UInt64) -> UInt64 {
            let bits: UInt64
            switch csr {
            case .fflags, .cycle, .time, .instret: return frm
            case .frm: bits = value & 7
            case .fcsr: bits = (value >> 5) & 7
            }
            if writesAll { return bits }
            return sets ? frm | bits : frm & ~bits
        }
        // The value the instruction combines with the CSR: its immediate, or its register's
        // value (0 for x0, in which case csrrs/csrrc do not write at all).
        var value: UInt64 = 0
        var source: UInt8 = 0
        var prefix: [RandomInstruction] = []
        if immediate {
            repeat { value = UInt64(random.below(32)) } while frmAfter(value) > 4
            source = UInt8(value)
        } else if random.percent(20) {
            source = 0
        } else {
            var imm: Int64 = 0
            repeat {
                imm = Int64(random.inRange(-2048...2047))
                value = UInt64(bitPattern: imm)
            } while frmAfter(value) > 4
            source = addressRegister()
            prefix = [item(Instruction(opcode: .addi, rd: source, rs1: 0, imm: imm))]
        }
        frm = frmAfter(value)
        let inst = Instruction(opcode: op, rd: destination(), rs1: source, imm: Int64(csr.rawValue))
        return prefix + [item(inst)]
    }

    /// A random 16-bit encoding that expands to an allowed form: a plain operation not writing
    /// the base register, or a load/store based on it (c.lw, c.ld, c.fld, c.sw, c.sd, c.fsd).
    package mutating func compressedInstruction() -> RandomInstruction? {
        for _ in 0..<32 {
            let quadrant = UInt16(random.below(3))
            var parcel = UInt16(truncatingIfNeeded: random.next()) & ~3 | quadrant
            let funct3 = parcel >> 13
            if quadrant == 0 && funct3 != 0 && funct3 != 4 {
                parcel = parcel & ~(7 << 7) | UInt16(base - 8) << 7  // rs1' = the base register
            }
            let inst = Decoder.decodeCompressed(parcel)
            let row = EncodingTable.row(for: inst.opcode)
            guard extensions.contains(row.isa) else { continue }
            let writesBase = row.format.rdClass == .integer && (Int(inst.rd) == base || reserved.contains(Int(inst.rd)))
            switch Self.role(of: row.format) {
            case .plain where !writesBase:
                return RandomInstruction(bits: UInt32(parcel), decoded: inst)
            case .load where !writesBase && Int(inst.rs1) == base,
                .store where Int(inst.rs1) == base:
                return RandomInstruction(bits: UInt32(parcel), decoded: inst)
            case .plain, .load, .store, .excluded, .atomic, .loadReserved, .csr, .cacheBlock:
                continue
            }
        }
        return nil
    }
}
