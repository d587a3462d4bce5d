/// The framing of GDB's Remote Serial Protocol, with no I/O: packets are `$data#cc`, where `cc`
/// is the modulo-256 sum of the data bytes in two hex digits; `}` escapes `$`, `#`, `}` and `*`
/// (the byte XOR 0x20); the receiver answers `+` (received) or `-` (send again); a lone 0x03
/// asks a running target to stop. See GDB's manual, "Remote Protocol" / "Overview".
package enum GDBPacket {
    /// The checksum of `data` as it travels (escaped).
    package static func checksum(_ data: some Sequence<UInt8>) -> UInt8 {
        data.reduce(0) { $0 &+ $1 }
    }

    /// `payload` framed and escaped for sending.
    package static func frame(_ payload: [UInt8]) -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(payload.count + 8)
        for byte in payload {
            if byte == UInt8(ascii: "$") || byte == UInt8(ascii: "#") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "*") {
                body.append(UInt8(ascii: "}"))
                body.append(byte ^ 0x20)
            } else {
                body.append(byte)
            }
        }
        let sum = checksum(body)
        return [UInt8(ascii: "$")] + body + [UInt8(ascii: "#")] + hex(sum)
    }

    /// `payload` (text) framed for sending.
    package static func frame(_ payload: String) -> [UInt8] { frame(Array(payload.utf8)) }

    /// The data of a received packet with `}` escapes undone (binary data, as in `X`).
    package static func unescape(_ data: some Sequence<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        var escaped = false
        for byte in data {
            if escaped {
                out.append(byte ^ 0x20)
                escaped = false
            } else if byte == UInt8(ascii: "}") {
                escaped = true
            } else {
                out.append(byte)
            }
        }
        return out
    }

    // MARK: Hex

    private static let digits = Array("0123456789abcdef".utf8)

    /// Two lower-case hex digits.
    package static func hex(_ byte: UInt8) -> [UInt8] { [digits[Int(byte >> 4)], digits[Int(byte & 15)]] }

    /// `bytes` as hex text, two digits per byte.
    package static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        for byte in bytes { out += hex(byte) }
        return String(decoding: out, as: UTF8.self)
    }

    /// The `size` bytes of `value` in guest (little-endian) order, as hex text: how registers
    /// travel in `g`, `p` and stop replies.
    package static func hexLittleEndian(_ value: UInt64, size: Int) -> String {
        hex((0..<size).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) })
    }

    /// The value of one hex digit, or nil.
    package static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Hex text (an even number of digits) as bytes, or nil.
    package static func bytes(fromHex text: some StringProtocol) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let high = hexValue(utf8[i]), let low = hexValue(utf8[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }

    /// A number in hex (most significant digit first, as addresses and lengths are), or nil.
    package static func number(_ text: some StringProtocol) -> UInt64? {
        guard !text.isEmpty, text.utf8.count <= 16 else { return nil }
        var value: UInt64 = 0
        for c in text.utf8 {
            guard let d = hexValue(c) else { return nil }
            value = value << 4 | UInt64(d)
        }
        return value
    }

    /// Little-endian hex bytes (a register's value as `P` and `G` carry it) as a number, or nil.
    package static func littleEndian(_ text: some StringProtocol) -> UInt64? {
        guard let bytes = bytes(fromHex: text), bytes.count <= 8 else { return nil }
        return bytes.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }
}

/// What arrives from gdb, one event at a time: `GDBPacketReader` turns the byte stream into
/// these.
package enum GDBInput: Equatable {
    /// A packet with a correct checksum: its data, escapes still in (only `X` and the like
    /// carry binary data; `GDBPacket.unescape` undoes them).
    case packet([UInt8])
    /// A packet whose checksum did not match (answer `-`).
    case corrupt
    /// `+`: the last packet sent arrived.
    case acknowledged
    /// `-`: send the last packet again.
    case resend
    /// 0x03: stop the running target.
    case interrupt
}

/// Splits the bytes gdb sends into packets, acknowledgements and interrupts. Pure: feed it
/// bytes as they arrive, take events out.
package struct GDBPacketReader {
    private enum State {
        case idle
        case data
        case checksum(high: UInt8?)
    }

    private var state = State.idle
    private var data: [UInt8] = []
    private var events: [GDBInput] = []

    package init() {}

    /// Takes bytes that arrived.
    package mutating func feed(_ bytes: some Sequence<UInt8>) {
        for byte in bytes { feed(byte) }
    }

    private mutating func feed(_ byte: UInt8) {
        switch state {
        case .idle:
            switch byte {
            case UInt8(ascii: "$"):
                data = []
                state = .data
            case UInt8(ascii: "+"): events.append(.acknowledged)
            case UInt8(ascii: "-"): events.append(.resend)
            case 0x03: events.append(.interrupt)
            default: break  // noise between packets
            }
        case .data:
            if byte == UInt8(ascii: "#") {
                state = .checksum(high: nil)
            } else if byte == UInt8(ascii: "$") {
                data = []  // a packet started over
            } else {
                data.append(byte)
            }
        case .checksum(let high):
            guard let high else {
                state = .checksum(high: GDBPacket.hexValue(byte) ?? 0xff)
                return
            }
            let low = GDBPacket.hexValue(byte)
            state = .idle
            if high <= 15, let low, high << 4 | low == GDBPacket.checksum(data) {
                events.append(.packet(data))
            } else {
                events.append(.corrupt)
            }
            data = []
        }
    }

    /// The next event, if a whole one arrived.
    package mutating func next() -> GDBInput? {
        events.isEmpty ? nil : events.removeFirst()
    }
}
