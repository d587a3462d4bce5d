import CRivetHost
import RivetISA

/// One A-extension instruction as `GuestMemory.execute(_:address:operand:slots:)` runs it: what
/// it does, on how many bytes, with which ordering bits. Every tier decodes its atomics to this,
/// so that the A extension's semantics exist once.
public struct GuestAtomic {
    public enum Kind {
        /// `lr.w`, `lr.d`.
        case loadReserved
        /// `sc.w`, `sc.d`.
        case storeConditional
        /// An AMO: its operation on the old value and rs2 (CRivetHost's `rivet_amo`).
        case readModifyWrite(rivet_amo)
    }

    public var kind: Kind
    /// 8 bytes (`.d`) rather than 4 (`.w`).
    public var isDoubleword: Bool
    /// The aq (2) and rl (1) bits.
    public var ordering: UInt8

    /// The access size in bytes.
    public var size: Int { isDoubleword ? 8 : 4 }

    /// The atomic `opcode` stands for, or nil if it is not an A-extension instruction.
    /// - Parameter ordering: the instruction's aq/rl bits (`Instruction.rm`).
    public init?(_ opcode: Opcode, ordering: UInt8) {
        let kind: Kind
        let doubleword: Bool
        switch opcode {
        case .lr_w: (kind, doubleword) = (.loadReserved, false)
        case .sc_w: (kind, doubleword) = (.storeConditional, false)
        case .amoswap_w: (kind, doubleword) = (.readModifyWrite(RIVET_AMO_SWAP), false)
        case .amoadd_w: (kind, doubleword) = (.readModifyWrite(RIVET_AMO_ADD), false)
        case .amoxor_w: (kind, doubleword) = (.readModifyWrite(RIVET_AMO_XOR), false)
        case .amoand_w: (kind, doubleword) = (.readModifyWrite(RIVET_AMO_AND), false)
        case .amoor_w: (kind, doubleword) = (.readModifyWrite(RIVET_AMO_OR), false)
        case .amomin_w: (kind, doubleword) = (.readModifyWrite(RIVET_AMO_MIN), false)
        case .amomax_w: (kind, doubleword) = (.readModifyWrite(RIVET_AMO_MAX), false)
        case .amominu_w: (kind, doubleword) = (.readModifyWrite(RIVET_AMO_MINU), false)
        case .amomaxu_w: (kind, doubleword) = (.readModifyWrite(RIVET_AMO_MAXU), false)
        case .lr_d: (kind, doubleword) = (.loadReserved, true)
        case .sc_d: (kind, doubleword) = (.storeConditional, true)
        case .amoswap_d: (kind, doubleword) = (.readModifyWrite(RIVET_AMO_SWAP), true)
        case .amoadd_d: (kind, doubleword) = (.readModifyWrite(RIVET_AMO_ADD), true)
        case .amoxor_d: (kind, doubleword) = (.readModifyWrite(RIVET_AMO_XOR), true)
        case .amoand_d: (kind, doubleword) = (.readModifyWrite(RIVET_AMO_AND), true)
        case .amoor_d: (kind, doubleword) = (.readModifyWrite(RIVET_AMO_OR), true)
        case .amomin_d: (kind, doubleword) = (.readModifyWrite(RIVET_AMO_MIN), true)
        case .amomax_d: (kind, doubleword) = (.readModifyWrite(RIVET_AMO_MAX), true)
        case .amominu_d: (kind, doubleword) = (.readModifyWrite(RIVET_AMO_MINU), true)
        case .amomaxu_d: (kind, doubleword) = (.readModifyWrite(RIVET_AMO_MAXU), true)
        case .illegal, .lui, .auipc, .jal, .jalr, .beq, .bne, .blt, .bge, .bltu, .bgeu, .lb, .lh, .lw, .ld,
            .lbu, .lhu, .lwu, .sb, .sh, .sw, .sd, .addi, .slti, .sltiu, .xori, .ori, .andi, .slli, .srli,
            .srai, .add, .sub, .sll, .slt, .sltu, .xor, .srl, .sra, .or, .and, .addiw, .slliw, .srliw,
            .sraiw, .addw, .subw, .sllw, .srlw, .sraw, .fence, .ecall, .ebreak, .fence_i, .csrrw, .csrrs,
            .csrrc, .csrrwi, .csrrsi, .csrrci, .mul, .mulh, .mulhsu, .mulhu, .div, .divu, .rem, .remu,
            .mulw, .divw, .divuw, .remw, .remuw, .flw, .fsw, .fmadd_s, .fmsub_s, .fnmsub_s, .fnmadd_s,
            .fadd_s, .fsub_s, .fmul_s, .fdiv_s, .fsqrt_s, .fsgnj_s, .fsgnjn_s, .fsgnjx_s, .fmin_s,
            .fmax_s, .fcvt_w_s, .fcvt_wu_s, .fcvt_l_s, .fcvt_lu_s, .fmv_x_w, .fclass_s, .feq_s, .flt_s,
            .fle_s, .fcvt_s_w, .fcvt_s_wu, .fcvt_s_l, .fcvt_s_lu, .fmv_w_x, .fld, .fsd, .fmadd_d,
            .fmsub_d, .fnmsub_d, .fnmadd_d, .fadd_d, .fsub_d, .fmul_d, .fdiv_d, .fsqrt_d, .fsgnj_d,
            .fsgnjn_d, .fsgnjx_d, .fmin_d, .fmax_d, .fcvt_s_d, .fcvt_d_s, .feq_d, .flt_d, .fle_d,
            .fclass_d, .fcvt_w_d, .fcvt_wu_d, .fcvt_l_d, .fcvt_lu_d, .fmv_x_d, .fcvt_d_w, .fcvt_d_wu,
            .fcvt_d_l, .fcvt_d_lu, .fmv_d_x, .sh1add, .sh2add, .sh3add, .add_uw, .sh1add_uw, .sh2add_uw,
            .sh3add_uw, .slli_uw, .andn, .orn, .xnor, .clz, .clzw, .ctz, .ctzw, .cpop, .cpopw, .max,
            .maxu, .min, .minu, .sext_b, .sext_h, .zext_h, .rol, .rolw, .ror, .rori, .roriw, .rorw,
            .orc_b, .rev8, .bclr, .bclri, .bext, .bexti, .binv, .binvi, .bset, .bseti, .czero_eqz,
            .czero_nez, .cbo_clean, .cbo_flush, .cbo_zero, .cbo_inval, .fli_s, .fminm_s, .fmaxm_s,
            .fround_s, .froundnx_s, .fleq_s, .fltq_s, .fli_d, .fminm_d, .fmaxm_d, .fround_d,
            .froundnx_d, .fleq_d, .fltq_d, .fcvtmod_w_d:
            return nil
        }
        self.kind = kind
        self.isDoubleword = doubleword
        self.ordering = ordering
    }
}

/// Why an atomic did not complete. Memory did not change.
public enum AtomicFailure: Error, Equatable {
    /// The address is not aligned to the access size (SIGBUS BUS_ADRALN on Linux).
    case misaligned(address: UInt64)
    /// The guest may not access the memory.
    case fault(GuestFault)
}

// The A extension for every tier, correct with guest threads running in parallel on host
// threads: each AMO is one host atomic instruction (CRivetHost's `rivet_amo32/64`, locked on
// x86-64 and so a full barrier, whatever the aq/rl bits), and an SC is a host compare-and-swap
// from the value its LR loaded.
extension GuestMemory {
    /// Executes one LR, SC or AMO for the hart whose slots are `slots`, and returns the value
    /// for its rd (the caller writes it, after reading rs2 into `operand`).
    ///
    /// - An AMO checks that the guest may read and write the address (a page it may read but
    ///   not write faults, even when the operation would leave the value as it is), then does
    ///   the operation atomically on the host and returns the old value (`.w`: sign-extended).
    /// - An LR loads the value (sign-extended for `lr.w`), and records the reservation: the
    ///   address and width in `HartState.Slot.reservation`, the value in
    ///   `HartState.Slot.reservationValue`.
    /// - An SC faults on a page the guest may not write whether or not it holds the reservation
    ///   (as Spike and hardware do; qemu fails it silently), and always clears the reservation.
    ///   It stores, returning 0, if the reservation is for this address and width and a host
    ///   compare-and-swap from the reserved value to the low `size` bytes of `operand` succeeds;
    ///   otherwise it returns 1. So a store of a different value by another hart between the LR
    ///   and the SC makes the SC fail, but one that stores the value the LR loaded does not (the
    ///   ABA case: the SC cannot tell; qemu-user accepts it too, and the programs LR/SC serves,
    ///   compare-and-swap loops, cannot tell either).
    ///
    /// - Parameters:
    ///   - atomic: the instruction.
    ///   - address: the guest address (rs1).
    ///   - operand: rs2 (ignored by LR).
    ///   - slots: the hart's slots (`HartState.slots`), for the reservation.
    /// - Returns: the value for rd.
    /// - Throws: `AtomicFailure.misaligned` if `address` is not aligned to the size (checked
    ///   first, before any permission), `AtomicFailure.fault` if the guest may not access it.
    public func execute(
        _ atomic: GuestAtomic, address: UInt64, operand: UInt64, slots: UnsafeMutablePointer<UInt64>
    ) throws(AtomicFailure) -> UInt64 {
        let size = atomic.size
        guard address & UInt64(size - 1) == 0 else { throw .misaligned(address: address) }
        // An aligned address has bit 0 clear: the width goes there.
        let reservation = address | (atomic.isDoubleword ? 1 : 0)
        do throws(GuestFault) {
            switch atomic.kind {
            case .loadReserved:
                let host = try hostBuffer(at: address, size: size, access: .read).baseAddress!
                // lr.rl (in practice lr.aqrl): earlier stores must be visible before the load,
                // the one order x86-64 does not keep by itself.
                if atomic.ordering & 1 != 0 { rivet_full_barrier() }
                let value = atomic.isDoubleword ? rivet_atomic_load64(host) : UInt64(rivet_atomic_load32(host))
                slots[HartState.Slot.reservation] = reservation
                slots[HartState.Slot.reservationValue] = value
                return atomic.isDoubleword ? value : Self.signExtendWord(value)
            case .storeConditional:
                try check(address, size: size, access: .write)
                let reserved = slots[HartState.Slot.reservation] == reservation
                slots[HartState.Slot.reservation] = HartState.noReservation
                guard reserved else { return 1 }
                let host = try hostBuffer(at: address, size: size, access: .write).baseAddress!
                let expected = slots[HartState.Slot.reservationValue]
                let stored =
                    atomic.isDoubleword
                    ? rivet_compare_and_swap64(host, expected, operand)
                    : rivet_compare_and_swap32(
                        host, UInt32(truncatingIfNeeded: expected), UInt32(truncatingIfNeeded: operand))
                return stored != 0 ? 0 : 1
            case .readModifyWrite(let operation):
                try check(address, size: size, access: .read)
                let host = try hostBuffer(at: address, size: size, access: .write).baseAddress!
                if atomic.isDoubleword { return rivet_amo64(host, operation, operand) }
                let old = rivet_amo32(host, operation, UInt32(truncatingIfNeeded: operand))
                return Self.signExtendWord(UInt64(old))
            }
        } catch {
            throw .fault(error)
        }
    }

    /// A full host memory barrier, for a `fence` whose ordering the host does not keep by itself
    /// (`FenceOrdering.ordersStoresBeforeLoads`).
    @inline(__always)
    public static func fullBarrier() { rivet_full_barrier() }

    @inline(__always)
    private static func signExtendWord(_ value: UInt64) -> UInt64 {
        UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: value)))
    }
}
