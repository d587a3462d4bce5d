import RivetISA
import RivetMachine

/// The registers Rivet shows gdb, as GDB's RISC-V target numbers them: `x0`...`x31` are 0...31,
/// `pc` 32, `f0`...`f31` 33...64, and the CSRs 65 + their number (`fflags` 66, `frm` 67, `fcsr`
/// 68). The `g` packet holds them in that order, each in guest (little-endian) byte order,
/// without the numbers no register has (65).
package enum GDBRegisters {
    /// One register: its gdb number, size in bytes, and name.
    package struct Register: Equatable {
        package var number: Int
        package var size: Int
        package var name: String
    }

    package static let pc = 32
    package static let firstFloat = 33
    package static let fflags = 66
    package static let frm = 67
    package static let fcsr = 68

    /// Every register, in `g` order.
    package static let all: [Register] =
        (0..<32).map { Register(number: $0, size: 8, name: integerRegisterNames[$0]) }
        + [Register(number: pc, size: 8, name: "pc")]
        + (0..<32).map { Register(number: firstFloat + $0, size: 8, name: floatRegisterNames[$0]) }
        + [Register(number: fflags, size: 4, name: "fflags"), Register(number: frm, size: 4, name: "frm"),
           Register(number: fcsr, size: 4, name: "fcsr")]

    /// The register numbered `number`, if gdb knows it from us.
    package static func register(_ number: Int) -> Register? { all.first { $0.number == number } }

    /// The value of register `number` in `hart`.
    package static func read(_ number: Int, _ hart: HartState) -> UInt64? {
        switch number {
        case 0..<32: hart.slots[HartState.Slot.x + number]
        case pc: hart.pc
        case firstFloat..<firstFloat + 32: hart.slots[HartState.Slot.f + number - firstFloat]
        case fflags: hart.fcsr & 0x1f
        case frm: hart.fcsr >> 5 & 7
        case fcsr: hart.fcsr
        default: nil
        }
    }

    /// Sets register `number` of `hart` (x0 stays zero; `fflags` and `frm` are fields of fcsr).
    /// - Returns: false if there is no such register.
    @discardableResult
    package static func write(_ number: Int, _ value: UInt64, _ hart: HartState) -> Bool {
        switch number {
        case 0..<32: hart[x: number] = value
        case pc: hart.pc = value
        case firstFloat..<firstFloat + 32: hart.slots[HartState.Slot.f + number - firstFloat] = value
        case fflags: hart.fcsr = hart.fcsr & ~0x1f | value & 0x1f
        case frm: hart.fcsr = hart.fcsr & 0x1f | (value & 7) << 5
        case fcsr: hart.fcsr = value
        default: return false
        }
        return true
    }

    /// The `g` reply: every register, hex, little-endian.
    package static func encodeAll(_ hart: HartState) -> String {
        all.map { GDBPacket.hexLittleEndian(read($0.number, hart) ?? 0, size: $0.size) }.joined()
    }

    /// Applies a `G` packet's data; false if it is malformed.
    package static func decodeAll(_ text: Substring, into hart: HartState) -> Bool {
        var rest = text
        var values: [(Int, UInt64)] = []
        for register in all {
            // gdb may send fewer registers than the description has; the rest stay.
            guard rest.count >= 2 * register.size else { break }
            guard let value = GDBPacket.littleEndian(rest.prefix(2 * register.size)) else { return false }
            values.append((register.number, value))
            rest = rest.dropFirst(2 * register.size)
        }
        for (number, value) in values { write(number, value, hart) }
        return true
    }

    /// The target description gdb reads with `qXfer:features:read:target.xml`: riscv:rv64 on
    /// Linux, the cpu feature (x0-x31 by ABI name, pc) and the fpu feature (f0-f31 as doubles
    /// or singles, fflags, frm, fcsr) with the numbers above.
    package static let targetDescription: String = {
        var xml = """
            <?xml version="1.0"?>
            <!DOCTYPE target SYSTEM "gdb-target.dtd">
            <target version="1.0">
            <architecture>riscv:rv64</architecture>
            <osabi>GNU/Linux</osabi>
            <feature name="org.gnu.gdb.riscv.cpu">

            """
        for k in 0..<32 {
            let type = k == 1 ? "code_ptr" : k == 2 || k == 3 || k == 4 || k == 8 ? "data_ptr" : "int"
            xml += "<reg name=\"\(integerRegisterNames[k])\" bitsize=\"64\" type=\"\(type)\" regnum=\"\(k)\"/>\n"
        }
        xml += "<reg name=\"pc\" bitsize=\"64\" type=\"code_ptr\" regnum=\"\(pc)\"/>\n</feature>\n"
        xml += """
            <feature name="org.gnu.gdb.riscv.fpu">
            <union id="riscv_double"><field name="float" type="ieee_single"/><field name="double" type="ieee_double"/></union>

            """
        for k in 0..<32 {
            xml += "<reg name=\"\(floatRegisterNames[k])\" bitsize=\"64\" type=\"riscv_double\" regnum=\"\(firstFloat + k)\"/>\n"
        }
        xml += """
            <reg name="fflags" bitsize="32" type="int" regnum="\(fflags)"/>
            <reg name="frm" bitsize="32" type="int" regnum="\(frm)"/>
            <reg name="fcsr" bitsize="32" type="int" regnum="\(fcsr)"/>
            </feature>
            </target>

            """
        return xml
    }()
}
