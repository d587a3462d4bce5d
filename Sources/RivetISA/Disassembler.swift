/// Prints instructions exactly as GNU objdump 2.40 (`objdump -d`, default options) prints them:
/// the text after the encoding column, a mnemonic, a tab and the operands (`add\tsp,sp,-16`).
///
/// objdump prints the first matching row of its own opcode table, which lists aliases before the
/// instructions they stand for, so `addi` prints as `li`, `mv`, `nop` or (binutils 2.40) `add`,
/// and a compressed instruction prints according to its 16-bit form (`c.mv` as `mv`, `c.li x0`
/// as `c.li zero,1`). Where objdump's table rejects an encoding that `Decoder` accepts (a
/// `fence` with nonzero reserved fields, `fcvt.d.s` with a rounding mode) this prints what
/// objdump prints (`.4byte 0x...`), and where the decoder rejects what objdump still prints (a
/// reserved rounding mode, `c.addi16sp` by zero) likewise. Every rule here was observed in
/// objdump's output; `Tests/RivetISATests/Golden` holds the evidence.
///
/// objdump also appends `# <address>` comments to instructions that complete an address begun
/// by an earlier `lui`/`auipc`, or based on `gp`, `tp` or `zero`. That needs memory across
/// instructions: pass the same `Context` to `text(_:at:context:)` for consecutive instructions.
public struct Disassembler: Sendable {
    /// Names an address for branch and jump targets (`main+0x10`), or nil. objdump prints a
    /// named address as `10094 <main+0x10>` and an unnamed one as `0x10094`.
    public var symbolizer: (@Sendable (UInt64) -> String?)?

    /// The privileged-spec version whose CSR names to print (objdump takes it from the ELF
    /// attributes, and defaults to the newest).
    public var privilegedSpec: PrivilegedSpec

    /// The extensions whose instructions print as instructions; an encoding of another prints
    /// as objdump prints what it does not know (objdump decodes the extensions an ELF file's
    /// `Tag_RISCV_arch` attribute names, RV64GC's when it names none). The default is every
    /// extension Rivet executes, for traces; Zicond then prints as binutils 2.41 prints it.
    public var extensions: Set<Extension>

    public init(
        symbolizer: (@Sendable (UInt64) -> String?)? = nil, privilegedSpec: PrivilegedSpec = .v1_12,
        extensions: Set<Extension> = Extension.all
    ) {
        self.symbolizer = symbolizer
        self.privilegedSpec = privilegedSpec
        self.extensions = extensions
    }

    /// What objdump remembers from one instruction to the next: the values `lui`, `auipc` and
    /// `c.lui` left in registers (until an instruction uses them as a base), and `gp`'s value
    /// when the file defines `__global_pointer$`.
    public struct Context: Sendable {
        /// Per register, the address an earlier `lui`/`auipc` put there, not yet used.
        var pendingHigh: [UInt64?] = Array(repeating: nil, count: 32)
        /// The value of `__global_pointer$`, if the file has that symbol.
        public var globalPointer: UInt64?

        public init(globalPointer: UInt64? = nil) {
            self.globalPointer = globalPointer
        }
    }

    /// The instruction's text as objdump prints it after the encoding column, without the
    /// address comments that depend on earlier instructions or on `gp` (those of `tp`- and
    /// `zero`-based addresses still appear).
    public func text(_ inst: Instruction, at pc: UInt64) -> String {
        var context = Context()
        return text(inst, at: pc, context: &context)
    }

    /// The instruction's text as objdump prints it after the encoding column, including the
    /// `# <address>` comment objdump appends; `context` carries what earlier instructions of
    /// the same listing left behind, and is updated.
    public func text(_ inst: Instruction, at pc: UInt64, context: inout Context) -> String {
        var inst = inst
        if !extensions.contains(inst.opcode.isa) { inst = .illegal(raw: inst.raw, length: inst.length) }
        let printed = inst.isCompressed ? compressed(inst, at: pc) : full(inst, at: pc)
        var out = printed.mnemonic
        if !printed.operands.isEmpty { out += "\t" + printed.operands }
        var comment: UInt64? = nil
        for use in printed.addressUses {
            if let address = resolve(use, context: &context) { comment = address }
        }
        if let high = printed.setsHigh { context.pendingHigh[Int(high.register)] = high.value }
        if let comment { out += " # " + address(comment) }
        return out
    }

    /// A code or data address as objdump prints it in operands and comments.
    public func address(_ value: UInt64) -> String {
        if let name = symbolizer?(value) { return hexDigits(value) + " <" + name + ">" }
        return "0x" + hexDigits(value)
    }

    /// objdump's `maybe_print_address`: the address an instruction with base register `base`
    /// and offset `offset` refers to, if objdump can tell; consumes a pending `lui`/`auipc`.
    private func resolve(_ use: AddressUse, context: inout Context) -> UInt64? {
        var value: UInt64
        if let high = context.pendingHigh[Int(use.base)] {
            value = (use.base == 0 ? 0 : high) &+ UInt64(bitPattern: use.offset)
            context.pendingHigh[Int(use.base)] = nil
        } else if use.base == 3, let gp = context.globalPointer {
            value = gp &+ UInt64(bitPattern: use.offset)
        } else if use.base == 4 || use.base == 0 {
            value = UInt64(bitPattern: use.offset)
        } else {
            return nil
        }
        if use.wide { value = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: value))) }
        return value
    }
}

/// An instruction's printed form before the address comment is settled.
struct Printed {
    var mnemonic: String
    var operands: String = ""
    /// Base-plus-offset uses objdump may annotate with `# address`, in the order objdump
    /// examines them (it examines some operands twice).
    var addressUses: [AddressUse] = []
    /// A register `lui`/`auipc` loads with an address's upper part.
    var setsHigh: (register: UInt8, value: UInt64)? = nil

    init(_ mnemonic: String, _ operands: String = "") {
        self.mnemonic = mnemonic
        self.operands = operands
    }

    /// `.4byte 0x...` / `.2byte 0x...`: what objdump prints for an encoding it does not know.
    static func unknown(_ inst: Instruction) -> Printed {
        Printed(inst.isCompressed ? ".2byte" : ".4byte", "0x" + hexDigits(inst.raw))
    }
}

/// An address formed from a base register and an offset.
struct AddressUse {
    var base: UInt8
    var offset: Int64
    /// `addiw`: the address is the low 32 bits, sign-extended.
    var wide: Bool = false
}

/// Lowercase hexadecimal without leading zeros, as objdump's `%x`.
func hexDigits<T: BinaryInteger>(_ value: T) -> String { String(value, radix: 16) }

/// Operand spellings shared by the instruction families.
extension Disassembler {
    func x(_ r: UInt8) -> String { integerRegisterNames[Int(r)] }
    func f(_ r: UInt8) -> String { floatRegisterNames[Int(r)] }

    /// `imm(base)`.
    func memory(_ offset: Int64, _ base: UInt8) -> String { "\(offset)(\(x(base)))" }

    /// A CSR by name, or `0x...` for numbers objdump has no name for.
    func csr(_ number: Int64) -> String {
        CSRNames.name(of: UInt16(number & 0xfff), spec: privilegedSpec) ?? "0x" + hexDigits(number & 0xfff)
    }

    /// The rounding-mode operand, with its leading comma; empty for the dynamic mode.
    func roundingMode(_ rm: UInt8) -> String {
        switch rm {
        case 0: ",rne"
        case 1: ",rtz"
        case 2: ",rdn"
        case 3: ",rup"
        case 4: ",rmm"
        case 7: ""
        default: ",unknown"
        }
    }
}
