import Rivet
import RivetISA
import RivetMachine
import Testing

/// The Remote Serial Protocol's framing and the register encoding, without a socket.
@Suite struct GDBPacketTests {
    func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func checksumsAreTheSumOfTheDataModulo256() {
        #expect(GDBPacket.checksum(Array("".utf8)) == 0)
        #expect(GDBPacket.checksum(Array("OK".utf8)) == 0x9a)
        #expect(text(GDBPacket.frame("OK")) == "$OK#9a")
        #expect(text(GDBPacket.frame("")) == "$#00")
        // qSupported as gdb sends it, and its known checksum.
        #expect(text(GDBPacket.frame("vMustReplyEmpty")) == "$vMustReplyEmpty#3a")
        // Sums wrap: 300 bytes of 'z' (0x7a): 300 * 122 = 36600 = 0x8ef8.
        #expect(GDBPacket.checksum([UInt8](repeating: 0x7a, count: 300)) == 0xf8)
    }

    @Test func specialBytesAreEscapedAndTheChecksumCoversTheEscapes() {
        // '$' '#' '}' '*' travel as '}' followed by the byte XOR 0x20.
        let framed = GDBPacket.frame([UInt8(ascii: "a"), UInt8(ascii: "$"), UInt8(ascii: "#"), UInt8(ascii: "}"), UInt8(ascii: "*")])
        let body: [UInt8] = [0x61, 0x7d, 0x04, 0x7d, 0x03, 0x7d, 0x5d, 0x7d, 0x0a]
        let sum = GDBPacket.checksum(body)
        #expect(framed == [UInt8(ascii: "$")] + body + [UInt8(ascii: "#")] + GDBPacket.hex(sum))
        #expect(GDBPacket.unescape(body) == Array("a$#}*".utf8))
    }

    @Test func theReaderSplitsPacketsAcksAndInterrupts() {
        var reader = GDBPacketReader()
        // A packet may arrive in pieces, with acks and an interrupt around it.
        reader.feed(Array("+$qSupp".utf8))
        #expect(reader.next() == .acknowledged)
        #expect(reader.next() == nil)
        reader.feed(Array("orted#37".utf8))
        #expect(reader.next() == .packet(Array("qSupported".utf8)))
        reader.feed([0x03] + Array("-$g#67$g#00".utf8))
        #expect(reader.next() == .interrupt)
        #expect(reader.next() == .resend)
        #expect(reader.next() == .packet(Array("g".utf8)))
        #expect(reader.next() == .corrupt)
        #expect(reader.next() == nil)
        // Upper-case checksum digits are accepted; binary data keeps its escapes.
        reader.feed(Array("$OK#9A".utf8))
        #expect(reader.next() == .packet(Array("OK".utf8)))
        let binary: [UInt8] = Array("X10,1:".utf8) + [0x7d, 0x5d]
        reader.feed(GDBPacket.frame(Array("X10,1:".utf8) + [0x7d]))
        #expect(reader.next() == .packet(binary))
    }

    @Test func numbersAndHex() {
        #expect(GDBPacket.number("1055e") == 0x1055e)
        #expect(GDBPacket.number("") == nil && GDBPacket.number("x1") == nil)
        #expect(GDBPacket.number("ffffffffffffffff") == .max && GDBPacket.number("1ffffffffffffffff") == nil)
        #expect(GDBPacket.bytes(fromHex: "00ff7A") == [0, 0xff, 0x7a])
        #expect(GDBPacket.bytes(fromHex: "0") == nil && GDBPacket.bytes(fromHex: "zz") == nil)
        #expect(GDBPacket.hexLittleEndian(0x1122_3344_5566_7788, size: 8) == "8877665544332211")
        #expect(GDBPacket.hexLittleEndian(0xe5, size: 4) == "e5000000")
        #expect(GDBPacket.littleEndian("8877665544332211") == 0x1122_3344_5566_7788)
    }

    @Test func registersTravelLittleEndianInGDBsOrder() {
        let hart = HartState()
        hart[x: 1] = 0x10552  // ra
        hart[x: 31] = 0x0102_0304_0506_0708  // t6
        hart.pc = 0x1055e
        hart.slots[HartState.Slot.f + 0] = 0x3ff0_0000_0000_0000  // ft0 = 1.0
        hart.fcsr = 0x85  // frm 4, fflags 5
        let g = GDBRegisters.encodeAll(hart)
        // 33 registers of 8 bytes (x0-x31, pc), 32 of 8 (f0-f31), 3 of 4 (fflags, frm, fcsr).
        #expect(g.count == 2 * (33 * 8 + 32 * 8 + 3 * 4))
        func field(_ index: Int, _ size: Int, at start: Int) -> Substring {
            let from = g.index(g.startIndex, offsetBy: 2 * start + 2 * index * size)
            return g[from..<g.index(from, offsetBy: 2 * size)]
        }
        #expect(field(0, 8, at: 0) == "0000000000000000")
        #expect(field(1, 8, at: 0) == "5205010000000000")
        #expect(field(31, 8, at: 0) == "0807060504030201")
        #expect(field(32, 8, at: 0) == "5e05010000000000")
        #expect(field(0, 8, at: 33 * 8) == "000000000000f03f")
        #expect(field(0, 4, at: 65 * 8) == "05000000")  // fflags
        #expect(field(1, 4, at: 65 * 8) == "04000000")  // frm
        #expect(field(2, 4, at: 65 * 8) == "85000000")  // fcsr
        // `p` numbers: pc is 0x20, fcsr 0x44; `G` puts everything back.
        #expect(GDBRegisters.read(0x20, hart) == 0x1055e && GDBRegisters.read(0x44, hart) == 0x85)
        #expect(GDBRegisters.read(65, hart) == nil)
        let copy = HartState()
        #expect(GDBRegisters.decodeAll(Substring(g), into: copy))
        #expect(GDBRegisters.encodeAll(copy) == g)
        // x0 stays zero; frm and fflags are fields of fcsr.
        GDBRegisters.write(0, 7, copy)
        GDBRegisters.write(GDBRegisters.frm, 1, copy)
        #expect(copy[x: 0] == 0 && copy.fcsr == 0x25)
    }

    @Test func theTargetDescriptionNamesGDBsRISCVFeatures() {
        let xml = GDBRegisters.targetDescription
        #expect(xml.contains("<architecture>riscv:rv64</architecture>"))
        #expect(xml.contains("<feature name=\"org.gnu.gdb.riscv.cpu\">") && xml.contains("<feature name=\"org.gnu.gdb.riscv.fpu\">"))
        #expect(xml.contains("<reg name=\"zero\" bitsize=\"64\" type=\"int\" regnum=\"0\"/>"))
        #expect(xml.contains("<reg name=\"pc\" bitsize=\"64\" type=\"code_ptr\" regnum=\"32\"/>"))
        #expect(xml.contains("<reg name=\"ft0\" bitsize=\"64\" type=\"riscv_double\" regnum=\"33\"/>"))
        #expect(xml.contains("<reg name=\"fcsr\" bitsize=\"32\" type=\"int\" regnum=\"68\"/>"))
    }
}

/// Which memory an instruction touches (what watchpoints are checked against), and when a
/// watchpoint is hit, without a guest.
@Suite struct GDBWatchpointTests {
    func access(_ word: UInt32, _ registers: [Int: UInt64]) -> GuestAccess? {
        let hart = HartState()
        for (number, value) in registers { hart[x: number] = value }
        return GuestAccess.of(Decoder.decode(low: UInt16(truncatingIfNeeded: word), high: UInt16(word >> 16)), hart)
    }

    @Test func loadsStoresAtomicsAndCompressedFormsAreDecodedFromTheRegisters() {
        // sd a1, 8(a0)
        #expect(access(0x00b5_3423, [10: 0x1000]) == GuestAccess(address: 0x1008, size: 8, reads: false, writes: true))
        // lw a0, -4(sp)
        #expect(access(0xffc1_2503, [2: 0x2000]) == GuestAccess(address: 0x1ffc, size: 4, reads: true, writes: false))
        // c.sdsp ra, 8(sp)
        #expect(access(0xe406, [2: 0x3000]) == GuestAccess(address: 0x3008, size: 8, reads: false, writes: true))
        // amoadd.w a0, a1, (a2): read and written
        #expect(access(0x00b6_252f, [12: 0x4000]) == GuestAccess(address: 0x4000, size: 4, reads: true, writes: true))
        // cbo.zero (a0): the aligned 64-byte block
        #expect(access(0x0045_200f, [10: 0x5047]) == GuestAccess(address: 0x5040, size: 64, reads: false, writes: true))
        // addi x0, x0, 0 touches nothing
        #expect(access(0x0000_0013, [:]) == nil)
    }

    @Test func aWatchpointIsHitByOverlappingAccessesOfItsKind() {
        let store = GuestAccess(address: 0x1004, size: 8, reads: false, writes: true)
        let load = GuestAccess(address: 0x1004, size: 8, reads: true, writes: false)
        let write = GDBWatchpoint(kind: .write, address: 0x1008, length: 4)
        #expect(write.hit(by: store) == 0x1008)
        #expect(write.hit(by: load) == nil)
        #expect(GDBWatchpoint(kind: .read, address: 0x1000, length: 8).hit(by: load) == 0x1004)
        #expect(GDBWatchpoint(kind: .access, address: 0x1000, length: 4).hit(by: store) == nil, "ends where the access starts")
        #expect(GDBWatchpoint(kind: .access, address: 0x100b, length: 1).hit(by: store) == 0x100b)
    }
}
