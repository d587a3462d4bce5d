extension Array {
    /// `count` copies of `value`, as `Array(repeating:count:)` makes them, through a path the
    /// compiler specializes for `Element`.
    ///
    /// `Array(repeating:count:)` (and `Array(unsafeUninitializedCapacity:initializingWith:)`)
    /// allocate through the standard library's `_allocateBufferUninitialized(minimumCapacity:)`,
    /// which is not inlinable: client code calls its generic entry point, which looks the array
    /// storage's type metadata up in the runtime's table at every call. A table of 64 `Int`s took
    /// 64 ns that way and 30 ns this way, and the lookups were about a tenth of tier 2's compile
    /// time, whose passes make such tables by the hundred for every region (Performance.md,
    /// thirty-second session).
    @inlinable @inline(__always)
    public init(filled value: Element, count: Int) {
        self.init(repeatElement(value, count: count))
    }
}
