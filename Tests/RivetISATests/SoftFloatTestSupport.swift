import Glibc

@testable import RivetISA

/// Shared pieces of the SoftFloat tests: rounding-mode names, a seeded generator of interesting
/// operands, and file reading.
enum FloatTest {
    /// The resolved rounding modes, in `rm` order.
    static let modes: [UInt8] = [0, 1, 2, 3, 4]
    /// Mode names for failure messages.
    static let modeNames = ["rne", "rtz", "rdn", "rup", "rmm"]

    /// Formats `x` as fixed-width hexadecimal.
    static func hex<T: FixedWidthInteger>(_ x: T) -> String {
        let digits = String(x, radix: 16)
        return String(repeating: "0", count: max(0, T.bitWidth / 4 - digits.count)) + digits
    }

    /// Formats `fflags` as NV/DZ/OF/UF/NX letters.
    static func flagNames(_ f: UInt8) -> String {
        let names = [(16, "NV"), (8, "DZ"), (4, "OF"), (2, "UF"), (1, "NX")]
        let set = names.filter { f & UInt8($0.0) != 0 }.map(\.1)
        return set.isEmpty ? "-" : set.joined(separator: "|")
    }

    /// The repository's root, found from this file's path.
    static var repositoryRoot: String {
        var parts = #filePath.split(separator: "/").map(String.init)
        parts.removeLast(3)  // Tests/RivetISATests/SoftFloatTestSupport.swift
        return "/" + parts.joined(separator: "/")
    }

    /// Reads a whole file as UTF-8 text, or nil.
    static func readText(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A positive count from the environment, or `fallback`.
    static func environmentCount(_ name: String, _ fallback: Int) -> Int {
        guard let raw = getenv(name), let n = Int(String(cString: raw)), n > 0 else { return fallback }
        return n
    }
}

/// SplitMix64: a small seeded generator, so failures reproduce.
struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// A uniform value in 0..<n.
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    /// Random bits of a format's operand: a mixture of special values, values around 1, values
    /// with short significands (exact results and ties), subnormals, huge values, and raw bits.
    /// - Parameter near: a biased exponent field to stay close to, when nonnegative.
    mutating func operand<F: BinaryFormat>(_: F.Type, near: Int = -1) -> UInt64 {
        let negative = below(2) == 0
        let maxField = Int(F.maxField)
        let p = F.precision
        func pack(_ field: Int, _ fraction: UInt64) -> UInt64 {
            let field = Swift.max(0, Swift.min(field, maxField - 1))
            return F.signBits(negative) | UInt64(field) << UInt64(F.fractionBits) | fraction & F.fractionMask
        }
        let fraction = next() & F.fractionMask
        let shortFraction: UInt64 = {
            let k = below(p)
            return k == 0 ? 0 : (fraction >> UInt64(F.fractionBits - k)) << UInt64(F.fractionBits - k)
        }()
        if near >= 0 && below(3) != 0 {
            return pack(near + below(2 * p + 7) - p - 3, below(2) == 0 ? fraction : shortFraction)
        }
        switch below(14) {
        case 0, 1: return special(F.self)
        case 2: return next() & (F.signBit << 1 &- 1)
        case 3, 4, 5: return pack(F.bias - 20 + below(40), fraction)
        case 6, 7: return pack(F.bias - 20 + below(40), shortFraction)
        case 8: return pack(below(maxField), shortFraction)
        case 9: return pack(below(p + 4), below(2) == 0 ? fraction : shortFraction)
        case 10: return pack(maxField - 1 - below(p + 4), fraction)
        case 11: return pack(0, fraction)
        default: return pack(1 + below(maxField - 1), fraction)
        }
    }

    /// One of the special values: zeros, infinities, NaNs, boundaries.
    mutating func special<F: BinaryFormat>(_: F.Type) -> UInt64 {
        let sign = F.signBits(below(2) == 0)
        let one = UInt64(F.bias) << UInt64(F.fractionBits)
        let values: [UInt64] = [
            0, F.infinity, F.canonicalNaN, F.canonicalNaN | (next() & F.fractionMask),
            F.infinity | 1 | (next() & F.fractionMask >> 2), 1, F.fractionMask, F.hiddenBit,
            F.maxFinite, one, one - 1, one + 1, F.hiddenBit | F.fractionMask, F.infinity - F.hiddenBit,
        ]
        return sign | values[below(values.count)]
    }

    /// Operands for a binary operation: often with close exponents (cancellation, ties).
    mutating func pair<F: BinaryFormat>(_: F.Type) -> (UInt64, UInt64) {
        let a = operand(F.self)
        let field = Int((a >> UInt64(F.fractionBits)) & F.maxField)
        let b = below(2) == 0 ? operand(F.self, near: field) : operand(F.self)
        return (a, b)
    }

    /// Operands for a fused multiply-add: the addend often close to the product.
    mutating func triple<F: BinaryFormat>(_: F.Type) -> (UInt64, UInt64, UInt64) {
        let a = operand(F.self)
        let b = below(2) == 0 ? operand(F.self, near: F.bias - 2 + below(5)) : operand(F.self)
        let fieldA = Int((a >> UInt64(F.fractionBits)) & F.maxField)
        let fieldB = Int((b >> UInt64(F.fractionBits)) & F.maxField)
        let productField = Swift.max(0, fieldA + fieldB - F.bias)
        let c = below(4) != 0 ? operand(F.self, near: productField) : operand(F.self)
        return (a, b, c)
    }

    /// An integer operand: small, near powers of two, with many significant bits, or random.
    mutating func integer() -> UInt64 {
        switch below(5) {
        case 0: return UInt64(bitPattern: Int64(below(2000) - 1000))
        case 1: return (1 << UInt64(below(64))) &+ UInt64(bitPattern: Int64(below(5) - 2))
        case 2: return (next() >> UInt64(below(64))) << UInt64(below(64))
        default:
            let x = next() >> UInt64(below(64))
            return below(2) == 0 ? x : 0 &- x
        }
    }
}
