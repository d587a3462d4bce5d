/// A position in the code, bound once; jumps may refer to it before it is bound.
public struct X64Label: Hashable, Sendable {
    /// The label's number in its assembler.
    public let id: Int32
}

/// A rel32 jump whose target can be rewritten while the code runs.
///
/// Its displacement field is 4-byte aligned relative to the code's start, so once the code is
/// placed at an address aligned to at least 4, rewriting it is one aligned 4-byte store, which
/// x86-64 performs atomically: a thread executing the jump sees the old or the new target.
public struct X64PatchableJump: Hashable, Sendable {
    /// The offset of the jump's first byte in the code.
    public let offset: Int
    /// The offset of its 4-byte displacement.
    public let displacementOffset: Int

    /// The offset just past the jump, which the displacement counts from.
    public var end: Int { displacementOffset + 4 }

    /// Points the jump, in code placed at `codeAddress` and writable at `code`, at `target`.
    ///
    /// - Parameters:
    ///   - code: the writable view of the code's first byte.
    ///   - codeAddress: the executable address of the code's first byte.
    ///   - target: the new target's executable address.
    /// - Throws: `X64Error.relocationOutOfRange` if `target` is beyond rel32 reach.
    public func retarget(code: UnsafeMutableRawPointer, codeAddress: HostAddress, to target: HostAddress)
        throws(X64Error)
    {
        guard let rel = Int32(exactly: target - (codeAddress + end)) else {
            throw .relocationOutOfRange(offset: displacementOffset, target: target, codeAddress: codeAddress)
        }
        precondition((codeAddress + displacementOffset).rawValue % 4 == 0, "patch field must be 4-byte aligned")
        // Unsafe: the caller guarantees `code` maps the code; the field is aligned, so this is a
        // single 4-byte store (atomic on x86-64).
        code.storeBytes(of: rel.littleEndian, toByteOffset: displacementOffset, as: Int32.self)
    }
}

/// Assembles x86-64 code: instructions, labels and the fixups between them, references to
/// absolute addresses, alignment. Reused from one translation to the next via `reset()`.
///
/// Use: `emit` instructions (jumps to labels through `jmp(to:)`, `jcc(_:to:)`...), `bind`
/// labels, then `finish()` to resolve label references, then `copy(to:address:)` to place the
/// bytes (resolving references to absolute addresses for that address). Offsets are from the
/// start of the code; alignment is relative to it too, so the code must be placed at an address
/// aligned to `requiredAlignment`.
public struct X64Assembler: ~Copyable {
    /// The bytes assembled so far.
    public var buffer: X64CodeBuffer
    /// The offset of each label, -1 while unbound.
    private var labelOffsets: [Int32] = []
    /// Label references to patch in `finish()`.
    private var fixups: [Fixup] = []
    /// References to absolute addresses, patched in `copy(to:address:)`.
    private var relocations: [Relocation] = []
    /// The largest alignment asked for, which the code's final address must honour.
    public private(set) var requiredAlignment: Int = 1
    /// Where the cold section starts (`startColdSection()`), nil while the code has one section.
    public private(set) var coldStart: Int? = nil
    /// The rel32 fields whose jump crosses between the sections (`finish()` fills it): their
    /// displacements assume the cold section right after the hot one, and grow by the distance
    /// the cold section is moved (hot to cold) or shrink by it (cold to hot).
    public private(set) var crossings: [Int32] = []

    /// A rel8 or rel32 field that will hold `label - end`.
    private struct Fixup {
        var label: Int32
        var field: Int32
        var end: Int32
        var isByte: Bool
    }

    /// A rel32 field that will hold `target - (codeAddress + end)`.
    private struct Relocation {
        var field: Int32
        var end: Int32
        var target: HostAddress
    }

    /// Creates an assembler whose buffer starts with room for `capacity` bytes.
    public init(capacity: Int = 4096) {
        buffer = X64CodeBuffer(capacity: capacity)
        labelOffsets.reserveCapacity(64)
        fixups.reserveCapacity(64)
        relocations.reserveCapacity(16)
    }

    /// The number of bytes assembled.
    public var count: Int { buffer.count }

    /// Forgets code, labels, fixups and relocations; keeps the storage.
    public mutating func reset() {
        buffer.removeAll()
        labelOffsets.removeAll(keepingCapacity: true)
        fixups.removeAll(keepingCapacity: true)
        relocations.removeAll(keepingCapacity: true)
        requiredAlignment = 1
        coldStart = nil
        crossings.removeAll(keepingCapacity: true)
    }

    /// Starts the cold section: what follows (exit stubs, slow paths) is placed apart from the
    /// code before it, so that the code that runs sits densely in the instruction cache. Jumps
    /// between the sections are rel32 and listed in `crossings`; the code may not refer to
    /// absolute addresses or need alignment past this point.
    public mutating func startColdSection() {
        precondition(coldStart == nil, "one cold section")
        coldStart = buffer.count
    }

    /// Appends one instruction; returns where it landed (inlinable: `X64CodeBuffer.emit`).
    @inlinable @inline(__always) @discardableResult
    public mutating func emit(_ inst: X64Instruction) -> X64Emitted { buffer.emit(inst) }

    /// Appends `value` as 8 little-endian data bytes (a constant for RIP-relative loads).
    public mutating func emitData(_ value: UInt64) {
        for k in 0..<8 { buffer.append(UInt8(truncatingIfNeeded: value >> (8 * k))) }
    }

    /// Appends `value` as 4 little-endian data bytes.
    public mutating func emitData(_ value: UInt32) {
        for k in 0..<4 { buffer.append(UInt8(truncatingIfNeeded: value >> (8 * k))) }
    }

    // MARK: Labels

    /// A new, unbound label.
    public mutating func newLabel() -> X64Label {
        labelOffsets.append(-1)
        return X64Label(id: Int32(labelOffsets.count - 1))
    }

    /// Whether a label is bound at `offset`: code jumps there from elsewhere.
    public func hasLabel(at offset: Int) -> Bool { labelOffsets.contains(Int32(offset)) }

    /// Binds `label` to the current offset. A label is bound once.
    public mutating func bind(_ label: X64Label) {
        precondition(labelOffsets[Int(label.id)] < 0, "label bound twice")
        labelOffsets[Int(label.id)] = Int32(buffer.count)
    }

    /// The offset `label` is bound to, or nil.
    public func offset(of label: X64Label) -> Int? {
        let offset = labelOffsets[Int(label.id)]
        return offset < 0 ? nil : Int(offset)
    }

    /// `jmp label`: rel8 for a bound label within reach, rel32 otherwise. For a label not yet
    /// bound, `short: true` asks for rel8 (a forward jump known to be near; `finish()` throws
    /// if it is not); the default is rel32.
    @discardableResult
    public mutating func jmp(to label: X64Label, short: Bool = false) -> X64Emitted {
        branch(label, short: short, near: .jmp(rel8: 0), far: .jmp(rel32: 0), farLength: 5)
    }

    /// `jcc label`, sized as `jmp(to:short:)` is.
    @discardableResult
    public mutating func jcc(_ condition: X64Condition, to label: X64Label, short: Bool = false) -> X64Emitted {
        branch(label, short: short, near: .jcc(condition, rel8: 0), far: .jcc(condition, rel32: 0), farLength: 6)
    }

    /// `call label`.
    @discardableResult
    public mutating func call(to label: X64Label) -> X64Emitted {
        let emitted = buffer.emit(.call(rel32: 0))
        refer(emitted.immediateOffset, emitted.end, to: label, isByte: false)
        return emitted
    }

    /// Emits `inst`, whose memory operand must be RIP-relative, so that it addresses `label`
    /// (`lea rax,[rip+label]`, a load from a constant placed after the code).
    @discardableResult
    public mutating func emit(_ inst: X64Instruction, ripRelativeTo label: X64Label) -> X64Emitted {
        precondition(inst.rm.memory?.base == .rip, "needs a RIP-relative memory operand")
        let emitted = buffer.emit(inst)
        refer(emitted.displacementOffset, emitted.end, to: label, isByte: false)
        return emitted
    }

    private mutating func branch(
        _ label: X64Label, short: Bool, near: X64Instruction, far: X64Instruction, farLength: Int
    ) -> X64Emitted {
        let target = labelOffsets[Int(label.id)]
        if let coldStart, target >= 0, target < coldStart {
            // Back from the cold section: rel32, fixed when the sections are placed.
            let emitted = buffer.emit(far)
            refer(emitted.immediateOffset, emitted.end, to: label, isByte: false)
            return emitted
        }
        if target >= 0 {
            let nearDistance = Int(target) - (buffer.count + 2)
            if let rel = Int8(exactly: nearDistance) {
                var inst = near
                inst.immediate = Int64(rel)
                return buffer.emit(inst)
            }
            var inst = far
            inst.immediate = Int64(Int(target) - (buffer.count + farLength))
            return buffer.emit(inst)
        }
        let emitted = buffer.emit(short ? near : far)
        refer(emitted.immediateOffset, emitted.end, to: label, isByte: short)
        return emitted
    }

    private mutating func refer(_ field: Int, _ end: Int, to label: X64Label, isByte: Bool) {
        fixups.append(Fixup(label: label.id, field: Int32(field), end: Int32(end), isByte: isByte))
    }

    /// Writes every label reference, as if the cold section followed the hot one, and lists
    /// those that cross between them in `crossings`; call once the labels are bound.
    /// - Throws: `X64Error.unboundLabel` or `X64Error.shortJumpOutOfRange` (a short jump
    ///   between the sections is out of range, wherever they land).
    public mutating func finish() throws(X64Error) {
        let split = Int32(coldStart ?? Int(Int32.max))
        for fixup in fixups {
            let target = labelOffsets[Int(fixup.label)]
            guard target >= 0 else { throw .unboundLabel(label: Int(fixup.label), referencedAt: Int(fixup.field)) }
            let distance = Int(target) - Int(fixup.end)
            if (fixup.field < split) != (target < split) {
                guard !fixup.isByte else {
                    throw .shortJumpOutOfRange(label: Int(fixup.label), referencedAt: Int(fixup.field), distance: distance)
                }
                crossings.append(fixup.field)
            }
            if fixup.isByte {
                guard let rel = Int8(exactly: distance) else {
                    throw .shortJumpOutOfRange(
                        label: Int(fixup.label), referencedAt: Int(fixup.field), distance: distance)
                }
                buffer.write(rel, at: Int(fixup.field))
            } else {
                buffer.write(Int32(distance), at: Int(fixup.field))
            }
        }
        fixups.removeAll(keepingCapacity: true)
    }

    // MARK: Absolute addresses

    /// `call target` with a rel32 resolved when the code is placed (`copy` throws if the
    /// target is then more than 2 GiB away; `movabs` + `call reg` reaches anywhere).
    @discardableResult
    public mutating func call(absolute target: HostAddress) -> X64Emitted {
        let emitted = buffer.emit(.call(rel32: 0))
        relocate(emitted.immediateOffset, emitted.end, target)
        return emitted
    }

    /// `jmp target` with a rel32 resolved when the code is placed.
    @discardableResult
    public mutating func jmp(absolute target: HostAddress) -> X64Emitted {
        let emitted = buffer.emit(.jmp(rel32: 0))
        relocate(emitted.immediateOffset, emitted.end, target)
        return emitted
    }

    /// `jcc target` with a rel32 resolved when the code is placed.
    @discardableResult
    public mutating func jcc(_ condition: X64Condition, absolute target: HostAddress) -> X64Emitted {
        let emitted = buffer.emit(.jcc(condition, rel32: 0))
        relocate(emitted.immediateOffset, emitted.end, target)
        return emitted
    }

    /// Emits `inst`, whose memory operand must be RIP-relative, so that it addresses `target`
    /// once the code is placed.
    @discardableResult
    public mutating func emit(_ inst: X64Instruction, ripRelativeTo target: HostAddress) -> X64Emitted {
        precondition(inst.rm.memory?.base == .rip, "needs a RIP-relative memory operand")
        let emitted = buffer.emit(inst)
        relocate(emitted.displacementOffset, emitted.end, target)
        return emitted
    }

    private mutating func relocate(_ field: Int, _ end: Int, _ target: HostAddress) {
        relocations.append(Relocation(field: Int32(field), end: Int32(end), target: target))
    }

    // MARK: Patchable jumps and alignment

    /// A rel32 `jmp` (or `jcc` with a `condition`) to `label`, padded with a `nop` before it
    /// so that its displacement is 4-byte aligned, for `X64PatchableJump.retarget`.
    public mutating func patchableJump(_ condition: X64Condition? = nil, to label: X64Label) -> X64PatchableJump {
        let emitted = alignedJump(condition)
        refer(emitted.immediateOffset, emitted.end, to: label, isByte: false)
        return X64PatchableJump(offset: emitted.start, displacementOffset: emitted.immediateOffset)
    }

    /// A patchable rel32 `jmp` (or `jcc`) to an absolute address, resolved when placed.
    public mutating func patchableJump(_ condition: X64Condition? = nil, absolute target: HostAddress)
        -> X64PatchableJump
    {
        let emitted = alignedJump(condition)
        relocate(emitted.immediateOffset, emitted.end, target)
        return X64PatchableJump(offset: emitted.start, displacementOffset: emitted.immediateOffset)
    }

    private mutating func alignedJump(_ condition: X64Condition?) -> X64Emitted {
        let opcodeLength = condition == nil ? 1 : 2
        let misalignment = (buffer.count + opcodeLength) & 3
        if misalignment != 0 { buffer.emit(.nop(length: 4 - misalignment)) }
        requiredAlignment = max(requiredAlignment, 4)
        if let condition { return buffer.emit(.jcc(condition, rel32: 0)) }
        return buffer.emit(.jmp(rel32: 0))
    }

    /// Pads with `nop`s (at most 9 bytes each) to a multiple of `boundary`, a power of two.
    public mutating func align(_ boundary: Int) {
        precondition(boundary > 0 && boundary & (boundary - 1) == 0, "alignment must be a power of two")
        requiredAlignment = max(requiredAlignment, boundary)
        nop(length: (boundary - buffer.count & (boundary - 1)) & (boundary - 1))
    }

    /// Emits `length` bytes of `nop`s, as few instructions as possible.
    public mutating func nop(length: Int) {
        var remaining = length
        while remaining > 0 {
            let piece = min(remaining, 9)
            buffer.emit(.nop(length: piece))
            remaining -= piece
        }
    }

    // MARK: Placing the code

    /// Mends the jumps between the sections of code placed apart: the hot section at `hot`
    /// and the cold one at `cold` (writable views), the cold one's executable address `delta`
    /// bytes past the end of the hot one's (0: right after it, as `finish()` assumed).
    ///
    /// - Parameters:
    ///   - coldStart: the code offset where the cold section starts (`coldStart`).
    ///   - crossings: the rel32 fields of jumps between the sections (`crossings`).
    public static func placeApart(
        hot: UnsafeMutableRawPointer, cold: UnsafeMutableRawPointer, coldStart: Int, crossings: [Int32], delta: Int
    ) {
        for field in crossings {
            let at = Int(field) < coldStart ? hot + Int(field) : cold + (Int(field) - coldStart)
            let old = Int(Int32(littleEndian: at.loadUnaligned(as: Int32.self)))
            // Hot to cold: the target moved `delta` away; cold to hot: the jump did.
            let new = Int(field) < coldStart ? old + delta : old - delta
            precondition(Int32(exactly: new) != nil, "sections placed out of rel32 reach")
            at.storeBytes(of: Int32(truncatingIfNeeded: new).littleEndian, as: Int32.self)
        }
    }

    /// Copies the finished code to `destination`, the writable view of memory that will execute
    /// at `address`, and resolves references to absolute addresses for that address.
    ///
    /// - Parameters:
    ///   - destination: where to write; at least `count` bytes.
    ///   - address: the executable address of `destination`'s first byte.
    /// - Throws: `X64Error.destinationTooSmall`, `.misalignedDestination`, `.relocationOutOfRange`.
    ///   Traps if `finish()` was not called after the last label reference.
    public func copy(to destination: UnsafeMutableRawBufferPointer, address: HostAddress) throws(X64Error) {
        precondition(fixups.isEmpty, "call finish() before copy(to:address:)")
        guard destination.count >= buffer.count else {
            throw .destinationTooSmall(needed: buffer.count, available: destination.count)
        }
        guard address.rawValue % UInt64(requiredAlignment) == 0 else {
            throw .misalignedDestination(address: address, alignment: requiredAlignment)
        }
        guard let base = destination.baseAddress else { return }
        for relocation in relocations {
            guard Int32(exactly: relocation.target - (address + Int(relocation.end))) != nil else {
                throw .relocationOutOfRange(
                    offset: Int(relocation.field), target: relocation.target, codeAddress: address)
            }
        }
        buffer.withUnsafeBytes { bytes in
            // Unsafe: `destination` holds at least `bytes.count` bytes (checked above).
            base.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        }
        for relocation in relocations {
            let distance = Int32(truncatingIfNeeded: relocation.target - (address + Int(relocation.end)))
            base.storeBytes(of: distance.littleEndian, toByteOffset: Int(relocation.field), as: Int32.self)
        }
    }
}
