/// A growable byte buffer that machine code is assembled into, reused from one translation to
/// the next so that steady-state assembly allocates nothing.
///
/// The buffer is position independent: the JIT copies the finished bytes to their final place
/// (the writable view of executable memory) with `X64Assembler.copy(to:address:)`, which also
/// resolves references to absolute addresses. Noncopyable, because it owns its storage.
public struct X64CodeBuffer: ~Copyable {
    // Unsafe: `storage` is allocated with `capacity` bytes, owned by this value alone (it is
    // noncopyable), and freed in `deinit`. Writes stay below `capacity`: `reserve` grows first.
    @usableFromInline var storage: UnsafeMutablePointer<UInt8>
    /// The number of bytes `storage` holds.
    public var capacity: Int { storageCapacity }
    @usableFromInline var storageCapacity: Int
    /// The number of bytes written.
    public var count: Int { written }
    @usableFromInline var written: Int
    /// `X64FormTable.storage`, taken once rather than through its lazy global at every
    /// instruction.
    @usableFromInline let rows = X64FormTable.storage

    /// Creates an empty buffer with room for `capacity` bytes (it grows as needed).
    public init(capacity: Int = 4096) {
        storageCapacity = max(capacity, 64)
        storage = .allocate(capacity: storageCapacity)
        written = 0
    }

    deinit { storage.deallocate() }

    /// Forgets the contents and keeps the storage.
    public mutating func removeAll() { written = 0 }

    /// Makes room for `bytes` more bytes.
    @inlinable @inline(__always)
    public mutating func reserve(_ bytes: Int) {
        if written + bytes > storageCapacity { grow(minimum: written + bytes) }
    }

    @inline(never) @usableFromInline
    mutating func grow(minimum: Int) {
        var newCapacity = storageCapacity * 2
        while newCapacity < minimum { newCapacity *= 2 }
        let newStorage = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newStorage.update(from: storage, count: written)
        storage.deallocate()
        storage = newStorage
        storageCapacity = newCapacity
    }

    /// Encodes one instruction at the end; returns where its parts landed. Inlinable, so that
    /// the JIT's calls, which mostly know the form, size and operand kinds, fold the encoder's
    /// tests of them.
    @inlinable @inline(__always) @discardableResult
    public mutating func emit(_ inst: X64Instruction) -> X64Emitted {
        reserve(X64Encoder.room)
        let start = written
        let encoding = X64Encoder.encode(inst, row: rows + Int(inst.form.rawValue), into: storage + start)
        written = start + encoding.length
        return X64Emitted(
            start: start, end: written,
            displacementOffset: encoding.displacementOffset < 0 ? -1 : start + encoding.displacementOffset,
            immediateOffset: encoding.immediateOffset < 0 ? -1 : start + encoding.immediateOffset)
    }

    /// Appends one byte.
    @inlinable @inline(__always)
    public mutating func append(_ byte: UInt8) {
        reserve(1)
        storage[written] = byte
        written += 1
    }

    /// The byte at `offset`.
    public subscript(offset: Int) -> UInt8 {
        precondition(offset >= 0 && offset < written)
        return storage[offset]
    }

    /// Overwrites the byte at `offset`.
    public mutating func write(_ value: Int8, at offset: Int) {
        precondition(offset >= 0 && offset < written)
        storage[offset] = UInt8(bitPattern: value)
    }

    /// Overwrites the four bytes at `offset` with `value`, little-endian.
    public mutating func write(_ value: Int32, at offset: Int) {
        precondition(offset >= 0 && offset + 4 <= written)
        UnsafeMutableRawPointer(storage + offset).storeBytes(of: value.littleEndian, as: Int32.self)
    }

    /// The four bytes at `offset`, little-endian.
    public func readInt32(at offset: Int) -> Int32 {
        precondition(offset >= 0 && offset + 4 <= written)
        return Int32(littleEndian: UnsafeRawPointer(storage + offset).loadUnaligned(as: Int32.self))
    }

    /// Calls `body` with the bytes written so far; the pointer is valid only during the call.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: storage, count: written))
    }

    /// A copy of the bytes written so far (allocates: for tests and tools).
    public var bytes: [UInt8] { Array(UnsafeBufferPointer(start: storage, count: written)) }
}

/// Where an emitted instruction lies in its buffer: offsets from the buffer's first byte, so a
/// JIT can patch an immediate or displacement later.
public struct X64Emitted: Sendable, Equatable {
    /// The offset of the instruction's first byte.
    public var start: Int
    /// The offset just past its last byte.
    public var end: Int
    /// The offset of its memory displacement, -1 if it has none.
    public var displacementOffset: Int
    /// The offset of its immediate or branch displacement, -1 if it has none.
    public var immediateOffset: Int

    /// Creates a record of where an instruction lies.
    public init(start: Int, end: Int, displacementOffset: Int, immediateOffset: Int) {
        self.start = start
        self.end = end
        self.displacementOffset = displacementOffset
        self.immediateOffset = immediateOffset
    }
}
