import RivetISA
import RivetMachine

extension Interpreter {
    /// Executes a Zicsr instruction. Returns false for a CSR user mode cannot access, or a
    /// write to a read-only one (an illegal instruction).
    ///
    /// - Parameter unretired: instructions of the current block not yet retired, counting this
    ///   one; `instret` counted the whole block at entry.
    @inline(never)
    func csr(_ i: Inst, unretired: UInt64) -> Bool {
        let r = hart.slots
        let number = UInt32(i.imm) & 0xfff
        let immediate = i.op == .csrrwi || i.op == .csrrsi || i.op == .csrrci
        let source: UInt64 = immediate ? UInt64(i.rs1) : r[Int(i.rs1)]
        // csrrs/csrrc with x0 (or a zero immediate) read without writing.
        let writes: Bool =
            switch i.op {
            case .csrrw, .csrrwi: true
            default: i.rs1 != 0
            }
        let old: UInt64
        switch CSR(rawValue: number) {
        case .fflags: old = r[HartState.Slot.fcsr] & 0x1f
        case .frm: old = (r[HartState.Slot.fcsr] >> 5) & 7
        case .fcsr: old = r[HartState.Slot.fcsr] & 0xff
        case .cycle, .instret: old = r[HartState.Slot.instret] &- unretired
        case .time: old = readTime()
        case nil: return false
        }
        guard writes else {
            r[Int(i.rd)] = old
            return true
        }
        let new: UInt64 =
            switch i.op {
            case .csrrw, .csrrwi: source
            case .csrrs, .csrrsi: old | source
            default: old & ~source
            }
        let fcsr = r[HartState.Slot.fcsr]
        switch CSR(rawValue: number) {
        case .fflags: r[HartState.Slot.fcsr] = (fcsr & ~0x1f) | (new & 0x1f)
        case .frm: r[HartState.Slot.fcsr] = (fcsr & 0x1f) | ((new & 7) << 5)
        case .fcsr: r[HartState.Slot.fcsr] = new & 0xff
        case .cycle, .instret, .time, nil: return false
        }
        r[Int(i.rd)] = old
        return true
    }

    /// Executes an LR, SC or AMO. Returns why the hart must stop, or nil.
    ///
    /// One hart, so plain host loads and stores are atomic with respect to the guest.
    @inline(never)
    func atomic(_ i: Inst) -> StopReason? {
        let r = hart.slots
        let address = r[Int(i.rs1)]
        let word: Bool
        switch i.op {
        case .lr_w, .sc_w, .amoswap_w, .amoadd_w, .amoxor_w, .amoand_w, .amoor_w, .amomin_w, .amomax_w,
            .amominu_w, .amomaxu_w:
            word = true
        default:
            word = false
        }
        let size = word ? 4 : 8
        guard address & UInt64(size - 1) == 0 else { return .misalignedAtomic(address: address) }
        do throws(GuestFault) {
            switch i.op {
            case .lr_w, .lr_d:
                let buffer = try memory.hostBuffer(at: address, size: size, access: .read)
                r[Int(i.rd)] =
                    word ? UInt64(bitPattern: Int64(buffer.load(as: Int32.self))) : buffer.load(as: UInt64.self)
                r[HartState.Slot.reservation] = address
                return nil
            case .sc_w, .sc_d:
                // An SC faults on a page it may not write, whether or not it holds the
                // reservation (as Spike and hardware do; qemu fails it silently).
                try memory.check(address, size: size, access: .write)
                let reserved = r[HartState.Slot.reservation] == address
                r[HartState.Slot.reservation] = HartState.noReservation
                guard reserved else {
                    r[Int(i.rd)] = 1
                    return nil
                }
                let buffer = try memory.hostBuffer(at: address, size: size, access: .write)
                if word {
                    buffer.storeBytes(of: UInt32(truncatingIfNeeded: r[Int(i.rs2)]), as: UInt32.self)
                } else {
                    buffer.storeBytes(of: r[Int(i.rs2)], as: UInt64.self)
                }
                r[Int(i.rd)] = 0
                return nil
            default:
                break
            }
            // AMOs need read and write rights.
            try memory.check(address, size: size, access: .read)
            let buffer = try memory.hostBuffer(at: address, size: size, access: .write)
            let old = word ? UInt64(bitPattern: Int64(buffer.load(as: Int32.self))) : buffer.load(as: UInt64.self)
            let operand = r[Int(i.rs2)]
            let new: UInt64
            switch i.op {
            case .amoswap_w, .amoswap_d: new = operand
            case .amoadd_w, .amoadd_d: new = old &+ operand
            case .amoxor_w, .amoxor_d: new = old ^ operand
            case .amoand_w, .amoand_d: new = old & operand
            case .amoor_w, .amoor_d: new = old | operand
            case .amomin_w:
                new = Int32(truncatingIfNeeded: old) < Int32(truncatingIfNeeded: operand) ? old : operand
            case .amomax_w:
                new = Int32(truncatingIfNeeded: old) > Int32(truncatingIfNeeded: operand) ? old : operand
            case .amominu_w:
                new = UInt32(truncatingIfNeeded: old) < UInt32(truncatingIfNeeded: operand) ? old : operand
            case .amomaxu_w:
                new = UInt32(truncatingIfNeeded: old) > UInt32(truncatingIfNeeded: operand) ? old : operand
            case .amomin_d: new = Int64(bitPattern: old) < Int64(bitPattern: operand) ? old : operand
            case .amomax_d: new = Int64(bitPattern: old) > Int64(bitPattern: operand) ? old : operand
            case .amominu_d: new = min(old, operand)
            case .amomaxu_d: new = max(old, operand)
            default: return .illegalInstruction(raw: 0, length: i.length)
            }
            if word {
                buffer.storeBytes(of: UInt32(truncatingIfNeeded: new), as: UInt32.self)
            } else {
                buffer.storeBytes(of: new, as: UInt64.self)
            }
            r[Int(i.rd)] = old
            return nil
        } catch {
            return .fault(error)
        }
    }

    /// Executes `cbo.clean`, `cbo.flush` or `cbo.zero` on the 64-byte block holding the address
    /// in rs1. Returns why the hart must stop, or nil.
    ///
    /// Clean and flush change nothing a program can observe (one hart, coherent host memory),
    /// but, as the CMO specification says, fault unless a load or a store may access the block;
    /// zero is a 64-byte store. Faults report rs1, as the specification writes it to `stval`.
    @inline(never)
    func cacheBlock(_ i: Inst) -> StopReason? {
        let address = hart.slots[Int(i.rs1)]
        let block = address & ~(cacheBlockSize - 1)
        let size = Int(cacheBlockSize)
        do throws(GuestFault) {
            if i.op == .cbo_zero {
                let buffer = try memory.hostBuffer(at: block, size: size, access: .write)
                buffer.initializeMemory(as: UInt8.self, repeating: 0)
            } else {
                // Write implies read on RISC-V Linux, so "readable" is "a load or a store may".
                try memory.check(block, size: size, access: .read)
            }
            return nil
        } catch {
            var fault = error
            fault.address = GuestAddress(address)
            fault.access = .write  // a store fault, whatever the operation
            return .fault(fault)
        }
    }
}
