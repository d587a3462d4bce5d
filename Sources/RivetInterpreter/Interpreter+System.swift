import RivetISA
import RivetMachine

extension Interpreter {
    /// Executes a Zicsr instruction. Returns false for a CSR user mode cannot access, or a
    /// write to a read-only one (an illegal instruction).
    ///
    /// - Parameter unretired: instructions of the current block not yet retired, counting this
    ///   one; `instret` counted the whole block at entry.
    @inline(never)
    func csr(_ instruction: UnsafeMutablePointer<Inst>, unretired: UInt64) -> Bool {
        let i = instruction.pointee  // (one load: `Interpreter.float`)
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

    /// Executes an LR, SC or AMO (`GuestMemory.execute(_:address:operand:slots:)`, which every
    /// tier shares). Returns why the hart must stop, or nil.
    @inline(never)
    func atomic(_ instruction: UnsafeMutablePointer<Inst>) -> StopReason? {
        let i = instruction.pointee
        guard let atomic = GuestAtomic(i.op, ordering: i.rm) else {
            return .illegalInstruction(raw: 0, length: 4)  // (no atomic is compressed)
        }
        let r = hart.slots
        do throws(AtomicFailure) {
            let result = try memory.execute(atomic, address: r[Int(i.rs1)], operand: r[Int(i.rs2)], slots: r)
            r[Int(i.rd)] = result
            return nil
        } catch {
            switch error {
            case .misaligned(let address): return .misalignedAtomic(address: address)
            case .fault(let fault): return .fault(fault)
            }
        }
    }

    /// Executes `cbo.clean`, `cbo.flush` or `cbo.zero` on the 64-byte block holding the address
    /// in rs1. Returns why the hart must stop, or nil.
    ///
    /// Clean and flush change nothing a program can observe (one hart, coherent host memory),
    /// but, as the CMO specification says, fault unless a load or a store may access the block;
    /// zero is a 64-byte store. Faults report rs1, as the specification writes it to `stval`.
    @inline(never)
    func cacheBlock(_ instruction: UnsafeMutablePointer<Inst>) -> StopReason? {
        let i = instruction.pointee
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
