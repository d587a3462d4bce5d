// Lists by index (a block's successors, a value's partners, the branches into a block), all in
// one array. The passes and the backend build such lists many times a region; as an array a
// list (`[[Block]]` and the like) their allocations and the runtime's metadata lookups were a
// tenth of tier 2's compile time.

/// A list of elements for each index `0..<count`, all in one array.
public struct IndexedLists<Element>: RandomAccessCollection {
    /// Where each index's list starts in `items`; `starts[count]` is the end.
    @usableFromInline var starts: [Int32]
    /// The lists, one after another.
    @usableFromInline var items: [Element]

    /// The lists `build` makes. It calls its argument with an index and an element, for each
    /// element in the order its list reads, and is called twice: to count, then to fill (it must
    /// do the same both times). `filler` is any element (the storage is made of it first).
    /// (Inlined, so that `build` is too: a `build` that reads a `Function` otherwise captured a
    /// copy of it, every array of it retained and released.)
    @inlinable @inline(__always)
    public init(count: Int, filler: Element, _ build: (_ append: (Int, Element) -> Void) -> Void) {
        var starts = [Int32](filled: 0, count: count + 1)
        build { index, _ in starts[index + 1] += 1 }
        for k in 0..<count { starts[k + 1] += starts[k] }
        var next = starts
        var items = [Element](filled: filler, count: Int(starts[count]))
        build { index, element in
            items[Int(next[index])] = element
            next[index] += 1
        }
        self.starts = starts
        self.items = items
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { starts.count - 1 }
    /// The list of index `i`.
    @inlinable public subscript(i: Int) -> List {
        List(items: items, base: Int(starts[i]), count: Int(starts[i + 1] - starts[i]))
    }

    /// One list, indexed from 0.
    public struct List: RandomAccessCollection {
        @usableFromInline let items: [Element]
        @usableFromInline let base: Int
        public let count: Int
        @inlinable init(items: [Element], base: Int, count: Int) {
            self.items = items
            self.base = base
            self.count = count
        }
        public var startIndex: Int { 0 }
        public var endIndex: Int { count }
        @inlinable public subscript(i: Int) -> Element { items[base + i] }
    }
}

extension IndexedLists: Sendable where Element: Sendable {}
extension IndexedLists.List: Sendable where Element: Sendable {}

/// A block by block: successors, predecessors, dominator-tree children.
public typealias BlockLists = IndexedLists<Block>
