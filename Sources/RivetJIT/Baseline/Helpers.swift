import RivetISA
import RivetMachine

/// What helpers called from JIT code need beyond the hart's slots. JIT code finds it through
/// `HartState.Slot.helperContext` (an unretained pointer the engine keeps alive).
final class HelperContext {
    let memory: GuestMemory
    /// The `time` CSR's source.
    var readTime: () -> UInt64 = { 0 }

    init(memory: GuestMemory) { self.memory = memory }

    var addresses: HelperAddresses { HelperAddresses() }

    static func from(_ state: UnsafeMutablePointer<UInt64>) -> HelperContext {
        let raw = UnsafeRawPointer(bitPattern: UInt(state[HartState.Slot.helperContext]))!
        return Unmanaged<HelperContext>.fromOpaque(raw).takeUnretainedValue()
    }
}

/// A helper's C signature: `(state, packed instruction, extra) -> status`, 0 for success.
typealias HelperFunction = @convention(c) (UnsafeMutablePointer<UInt64>, UInt64, UInt64) -> UInt64

private let atomicHelper: HelperFunction = { state, packed, _ in JITAtomic.execute(state, packed) ? 0 : 1 }
private let csrHelper: HelperFunction = { state, packed, unretired in
    JITSystem.csr(state, packed, unretired: unretired) ? 0 : 1
}

/// Host addresses of the helpers, for `call` in JIT code.
struct HelperAddresses {
    var atomic: UInt = unsafeBitCast(atomicHelper, to: UInt.self)
    var csr: UInt = unsafeBitCast(csrHelper, to: UInt.self)
}

/// The fields `BlockTranslator.pack` put in a helper's argument.
struct PackedInstruction {
    let opcode: Opcode
    let rd: Int
    let rs1: Int
    let rs2: Int
    let rs3: Int
    let rm: UInt8
    let csr: UInt32

    init(_ packed: UInt64) {
        opcode = Opcode(rawValue: UInt8(truncatingIfNeeded: packed)) ?? .illegal
        rd = Int((packed >> 8) & 0xff)
        rs1 = Int((packed >> 16) & 0xff)
        rs2 = Int((packed >> 24) & 0xff)
        rs3 = Int((packed >> 32) & 0xff)
        rm = UInt8((packed >> 40) & 0xff)
        csr = UInt32((packed >> 48) & 0xfff)
    }
}

/// Zicsr for JIT code: the user CSRs. Returns false for an illegal access.
enum JITSystem {
    static func csr(_ s: UnsafeMutablePointer<UInt64>, _ packed: UInt64, unretired: UInt64) -> Bool {
        let i = PackedInstruction(packed)
        let fcsr = HartState.Slot.fcsr
        let immediate: Bool
        let kind: UInt8  // 0 write, 1 set, 2 clear
        switch i.opcode {
        case .csrrw: (immediate, kind) = (false, 0)
        case .csrrs: (immediate, kind) = (false, 1)
        case .csrrc: (immediate, kind) = (false, 2)
        case .csrrwi: (immediate, kind) = (true, 0)
        case .csrrsi: (immediate, kind) = (true, 1)
        case .csrrci: (immediate, kind) = (true, 2)
        default: return false
        }
        let source = immediate ? UInt64(i.rs1) : s[i.rs1]
        let writes = kind == 0 || i.rs1 != 0
        let old: UInt64
        switch CSR(rawValue: i.csr) {
        case .fflags: old = s[fcsr] & 0x1f
        case .frm: old = (s[fcsr] >> 5) & 7
        case .fcsr: old = s[fcsr] & 0xff
        case .cycle, .instret:
            old = s[HartState.Slot.instret] &+ (s[HartState.Slot.budgetAtEntry] &- s[HartState.Slot.budget]) &- unretired
        case .time:
            old = HelperContext.from(s).readTime()
        case nil:
            return false
        }
        if writes {
            let new: UInt64 = kind == 0 ? source : kind == 1 ? old | source : old & ~source
            switch CSR(rawValue: i.csr) {
            case .fflags: s[fcsr] = (s[fcsr] & ~0x1f) | (new & 0x1f)
            case .frm: s[fcsr] = (s[fcsr] & 0x1f) | ((new & 7) << 5)
            case .fcsr: s[fcsr] = new & 0xff
            case .cycle, .instret, .time, nil: return false
            }
        }
        if i.rd != 0 { s[i.rd] = old }
        return true
    }
}

/// The A extension for JIT code: `GuestMemory.execute(_:address:operand:slots:)`, which the
/// interpreter shares. Returns false when the access faults or is misaligned (nothing changed
/// in memory; the interpreter then executes the instruction again and reports it).
enum JITAtomic {
    static func execute(_ s: UnsafeMutablePointer<UInt64>, _ packed: UInt64) -> Bool {
        let i = PackedInstruction(packed)
        guard let atomic = GuestAtomic(i.opcode, ordering: i.rm) else { return false }
        let memory = HelperContext.from(s).memory
        do throws(AtomicFailure) {
            let result = try memory.execute(atomic, address: s[i.rs1], operand: s[i.rs2], slots: s)
            if i.rd != 0 { s[i.rd] = result }
            return true
        } catch {
            return false
        }
    }
}
