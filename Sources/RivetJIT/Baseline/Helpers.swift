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

/// The A extension for JIT code. One hart: plain loads and stores are atomic for the guest.
/// Returns false when the access faults or is misaligned (the interpreter then reports it).
enum JITAtomic {
    static func execute(_ s: UnsafeMutablePointer<UInt64>, _ packed: UInt64) -> Bool {
        let i = PackedInstruction(packed)
        let memory = HelperContext.from(s).memory
        let address = s[i.rs1]
        let word: Bool
        switch i.opcode {
        case .lr_w, .sc_w, .amoswap_w, .amoadd_w, .amoxor_w, .amoand_w, .amoor_w, .amomin_w, .amomax_w,
            .amominu_w, .amomaxu_w:
            word = true
        default:
            word = false
        }
        let size = word ? 4 : 8
        guard address & UInt64(size - 1) == 0 else { return false }
        let result: UInt64
        do throws(GuestFault) {
            switch i.opcode {
            case .lr_w, .lr_d:
                let buffer = try memory.hostBuffer(at: address, size: size, access: .read)
                result = word ? UInt64(bitPattern: Int64(buffer.load(as: Int32.self))) : buffer.load(as: UInt64.self)
                s[HartState.Slot.reservation] = address
            case .sc_w, .sc_d:
                // A page the guest may not write faults, reserved or not.
                try memory.check(address, size: size, access: .write)
                let reserved = s[HartState.Slot.reservation] == address
                s[HartState.Slot.reservation] = HartState.noReservation
                if reserved {
                    let buffer = try memory.hostBuffer(at: address, size: size, access: .write)
                    if word {
                        buffer.storeBytes(of: UInt32(truncatingIfNeeded: s[i.rs2]), as: UInt32.self)
                    } else {
                        buffer.storeBytes(of: s[i.rs2], as: UInt64.self)
                    }
                    result = 0
                } else {
                    result = 1
                }
            default:
                try memory.check(address, size: size, access: .read)
                let buffer = try memory.hostBuffer(at: address, size: size, access: .write)
                let old = word ? UInt64(bitPattern: Int64(buffer.load(as: Int32.self))) : buffer.load(as: UInt64.self)
                let b = s[i.rs2]
                let new: UInt64
                switch i.opcode {
                case .amoswap_w, .amoswap_d: new = b
                case .amoadd_w, .amoadd_d: new = old &+ b
                case .amoxor_w, .amoxor_d: new = old ^ b
                case .amoand_w, .amoand_d: new = old & b
                case .amoor_w, .amoor_d: new = old | b
                case .amomin_w: new = Int32(truncatingIfNeeded: old) < Int32(truncatingIfNeeded: b) ? old : b
                case .amomax_w: new = Int32(truncatingIfNeeded: old) > Int32(truncatingIfNeeded: b) ? old : b
                case .amominu_w: new = UInt32(truncatingIfNeeded: old) < UInt32(truncatingIfNeeded: b) ? old : b
                case .amomaxu_w: new = UInt32(truncatingIfNeeded: old) > UInt32(truncatingIfNeeded: b) ? old : b
                case .amomin_d: new = Int64(bitPattern: old) < Int64(bitPattern: b) ? old : b
                case .amomax_d: new = Int64(bitPattern: old) > Int64(bitPattern: b) ? old : b
                case .amominu_d: new = min(old, b)
                case .amomaxu_d: new = max(old, b)
                default: return false
                }
                if word {
                    buffer.storeBytes(of: UInt32(truncatingIfNeeded: new), as: UInt32.self)
                } else {
                    buffer.storeBytes(of: new, as: UInt64.self)
                }
                result = old
            }
        } catch {
            return false
        }
        if i.rd != 0 { s[i.rd] = result }
        return true
    }
}
