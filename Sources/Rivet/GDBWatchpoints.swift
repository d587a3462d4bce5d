import RivetISA
import RivetMachine

/// A watchpoint gdb set: `Z2` (write), `Z3` (read) or `Z4` (access) over `length` bytes at
/// `address`. Rivet checks each instruction's data access against them before it executes
/// (`GuestAccess`), so they hold for every thread, whatever the length or alignment.
package struct GDBWatchpoint: Hashable {
    /// What access triggers it; the raw value is the `Z` packet's type.
    package enum Kind: UInt8, Hashable {
        case write = 2
        case read = 3
        case access = 4

        /// The stop reply's field for a hit: `watch`, `rwatch` or `awatch`.
        var stopField: String {
            switch self {
            case .write: "watch"
            case .read: "rwatch"
            case .access: "awatch"
            }
        }
    }

    package var kind: Kind
    package var address: UInt64
    package var length: UInt64

    package init(kind: Kind, address: UInt64, length: UInt64) {
        self.kind = kind
        self.address = address
        self.length = length
    }

    /// The address within both this watchpoint and `access` that gdb is told about, if
    /// `access` triggers it (they overlap and the access is of its kind).
    package func hit(by access: GuestAccess) -> UInt64? {
        let end = address &+ max(length, 1)
        let accessEnd = access.address &+ access.size
        guard access.address < end, address < accessEnd else { return nil }
        let matches =
            switch kind {
            case .write: access.writes
            case .read: access.reads
            case .access: access.reads || access.writes
            }
        return matches ? max(address, access.address) : nil
    }
}

/// The guest memory one instruction reads or writes: loads, stores, LR/SC, AMOs, FP loads and
/// stores (compressed forms decode to these), and `cbo.zero`'s 64-byte block.
package struct GuestAccess: Equatable {
    package var address: UInt64
    package var size: UInt64
    package var reads: Bool
    package var writes: Bool

    package init(address: UInt64, size: UInt64, reads: Bool, writes: Bool) {
        self.address = address
        self.size = size
        self.reads = reads
        self.writes = writes
    }

    /// The access of the instruction at `hart`'s pc, from its registers now (before it runs);
    /// nil if it touches no data memory or cannot be fetched.
    package static func next(of hart: HartState, in memory: GuestMemory) -> GuestAccess? {
        let pc = hart.pc
        guard let low = try? memory.load(UInt16.self, at: pc) else { return nil }
        var high: UInt16 = 0
        if Decoder.length(ofParcel: low) == 4 {
            guard let word = try? memory.load(UInt16.self, at: pc &+ 2) else { return nil }
            high = word
        }
        return of(Decoder.decode(low: low, high: high), hart)
    }

    /// The access `instruction` makes with `hart`'s registers, or nil if it makes none.
    package static func of(_ instruction: Instruction, _ hart: HartState) -> GuestAccess? {
        let base = hart[x: Int(instruction.rs1)]
        let address = base &+ UInt64(bitPattern: instruction.imm)
        func load(_ size: UInt64) -> GuestAccess { GuestAccess(address: address, size: size, reads: true, writes: false) }
        func store(_ size: UInt64) -> GuestAccess { GuestAccess(address: address, size: size, reads: false, writes: true) }
        // LR/SC and AMOs have no offset: the address is rs1.
        func atomic(_ size: UInt64, reads: Bool, writes: Bool) -> GuestAccess {
            GuestAccess(address: base, size: size, reads: reads, writes: writes)
        }
        switch instruction.opcode {
        case .lb, .lbu: return load(1)
        case .lh, .lhu: return load(2)
        case .lw, .lwu, .flw: return load(4)
        case .ld, .fld: return load(8)
        case .sb: return store(1)
        case .sh: return store(2)
        case .sw, .fsw: return store(4)
        case .sd, .fsd: return store(8)
        case .lr_w: return atomic(4, reads: true, writes: false)
        case .lr_d: return atomic(8, reads: true, writes: false)
        case .sc_w: return atomic(4, reads: false, writes: true)
        case .sc_d: return atomic(8, reads: false, writes: true)
        case .amoswap_w, .amoadd_w, .amoxor_w, .amoand_w, .amoor_w, .amomin_w, .amomax_w, .amominu_w, .amomaxu_w:
            return atomic(4, reads: true, writes: true)
        case .amoswap_d, .amoadd_d, .amoxor_d, .amoand_d, .amoor_d, .amomin_d, .amomax_d, .amominu_d, .amomaxu_d:
            return atomic(8, reads: true, writes: true)
        case .cbo_zero:
            return GuestAccess(address: base & ~(cacheBlockSize - 1), size: cacheBlockSize, reads: false, writes: true)
        case .illegal, .lui, .auipc, .jal, .jalr, .beq, .bne, .blt, .bge, .bltu, .bgeu, .addi, .slti, .sltiu,
            .xori, .ori, .andi, .slli, .srli, .srai, .add, .sub, .sll, .slt, .sltu, .xor, .srl, .sra, .or, .and,
            .addiw, .slliw, .srliw, .sraiw, .addw, .subw, .sllw, .srlw, .sraw, .fence, .ecall, .ebreak,
            .fence_i, .csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci, .mul, .mulh, .mulhsu, .mulhu, .div,
            .divu, .rem, .remu, .mulw, .divw, .divuw, .remw, .remuw, .fmadd_s, .fmsub_s, .fnmsub_s, .fnmadd_s,
            .fadd_s, .fsub_s, .fmul_s, .fdiv_s, .fsqrt_s, .fsgnj_s, .fsgnjn_s, .fsgnjx_s, .fmin_s, .fmax_s,
            .fcvt_w_s, .fcvt_wu_s, .fcvt_l_s, .fcvt_lu_s, .fmv_x_w, .fclass_s, .feq_s, .flt_s, .fle_s,
            .fcvt_s_w, .fcvt_s_wu, .fcvt_s_l, .fcvt_s_lu, .fmv_w_x, .fmadd_d, .fmsub_d, .fnmsub_d, .fnmadd_d,
            .fadd_d, .fsub_d, .fmul_d, .fdiv_d, .fsqrt_d, .fsgnj_d, .fsgnjn_d, .fsgnjx_d, .fmin_d, .fmax_d,
            .fcvt_s_d, .fcvt_d_s, .feq_d, .flt_d, .fle_d, .fclass_d, .fcvt_w_d, .fcvt_wu_d, .fcvt_l_d,
            .fcvt_lu_d, .fmv_x_d, .fcvt_d_w, .fcvt_d_wu, .fcvt_d_l, .fcvt_d_lu, .fmv_d_x, .sh1add, .sh2add,
            .sh3add, .add_uw, .sh1add_uw, .sh2add_uw, .sh3add_uw, .slli_uw, .andn, .orn, .xnor, .clz, .clzw,
            .ctz, .ctzw, .cpop, .cpopw, .max, .maxu, .min, .minu, .sext_b, .sext_h, .zext_h, .rol, .rolw, .ror,
            .rori, .roriw, .rorw, .orc_b, .rev8, .bclr, .bclri, .bext, .bexti, .binv, .binvi, .bset, .bseti,
            .czero_eqz, .czero_nez, .fli_s, .fminm_s, .fmaxm_s, .fround_s, .froundnx_s, .fleq_s, .fltq_s,
            .fli_d, .fminm_d, .fmaxm_d, .fround_d, .froundnx_d, .fleq_d, .fltq_d, .fcvtmod_w_d:
            return nil
        case .cbo_clean, .cbo_flush, .cbo_inval:
            // cbo.clean and cbo.flush only check that the block is accessible; cbo.inval traps.
            return nil
        }
    }
}
