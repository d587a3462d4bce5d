import Dispatch
import RivetISA
import Testing

@testable import RivetMachine

/// The A extension every tier shares (`GuestMemory.execute`): each AMO in both widths, LR/SC,
/// faults, and atomicity with host threads racing.
@Suite struct GuestAtomicsTests {
    static let page: UInt64 = 0x10000
    /// The word or doubleword under test; the words around it must never change.
    static let target: UInt64 = page + 0x100
    static let guardBelow: UInt64 = 0x1111_1111_1111_1111
    static let guardAbove: UInt64 = 0x2222_2222_2222_2222

    let memory: GuestMemory
    let hart = HartState()

    init() throws {
        memory = try GuestMemory(limit: 1 << 30)
        try memory.mapAnonymous(at: GuestAddress(Self.page), size: 0x2000, permissions: .readWrite)
        try memory.protect(at: GuestAddress(Self.page + 0x1000), size: 0x1000, permissions: .read)
    }

    func run(_ opcode: Opcode, at address: UInt64 = target, operand: UInt64 = 0, ordering: UInt8 = 0)
        throws(AtomicFailure) -> UInt64
    {
        let atomic = GuestAtomic(opcode, ordering: ordering)!
        return try memory.execute(atomic, address: address, operand: operand, slots: hart.slots)
    }

    /// One AMO in both widths, and what it stores as the specification defines it: `apply`
    /// gets the old value and the operand, each as unsigned and as signed (both already cut to
    /// the width and, for the signed pair, sign-extended from it).
    struct Operation: Sendable, CustomStringConvertible {
        let word: Opcode
        let doubleword: Opcode
        let apply: @Sendable (_ a: UInt64, _ b: UInt64, _ sa: Int64, _ sb: Int64) -> UInt64
        var description: String { "\(word)/\(doubleword)" }

        /// The result for the low `bits` bits of `old` and `operand`.
        func reference(_ old: UInt64, _ operand: UInt64, bits: Int) -> UInt64 {
            let mask: UInt64 = bits == 64 ? ~0 : 0xffff_ffff
            let shift = UInt64(64 - bits)
            let (a, b) = (old & mask, operand & mask)
            return apply(a, b, Int64(bitPattern: a << shift) >> shift, Int64(bitPattern: b << shift) >> shift) & mask
        }
    }

    static let operations: [Operation] = [
        Operation(word: .amoswap_w, doubleword: .amoswap_d) { _, b, _, _ in b },
        Operation(word: .amoadd_w, doubleword: .amoadd_d) { a, b, _, _ in a &+ b },
        Operation(word: .amoxor_w, doubleword: .amoxor_d) { a, b, _, _ in a ^ b },
        Operation(word: .amoand_w, doubleword: .amoand_d) { a, b, _, _ in a & b },
        Operation(word: .amoor_w, doubleword: .amoor_d) { a, b, _, _ in a | b },
        Operation(word: .amomin_w, doubleword: .amomin_d) { a, b, sa, sb in sa < sb ? a : b },
        Operation(word: .amomax_w, doubleword: .amomax_d) { a, b, sa, sb in sa > sb ? a : b },
        Operation(word: .amominu_w, doubleword: .amominu_d) { a, b, _, _ in a < b ? a : b },
        Operation(word: .amomaxu_w, doubleword: .amomaxu_d) { a, b, _, _ in a > b ? a : b },
    ]

    /// Values that separate signed from unsigned, and the word's sign bit from the doubleword's.
    static let values: [UInt64] = [
        0, 1, ~0, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff_8000_0000, 0x8000_0000_0000_0000, 0x7fff_ffff_ffff_ffff,
        0x0000_0005_ffff_fffe, 0xffff_fff3_0000_0003,
    ]

    func fill(_ value: UInt64) throws {
        try memory.store(Self.guardBelow, at: Self.target - 8)
        try memory.store(value, at: Self.target)
        try memory.store(Self.guardAbove, at: Self.target + 8)
    }

    func expectGuardsIntact() throws {
        #expect(try memory.load(UInt64.self, at: Self.target - 8) == Self.guardBelow)
        #expect(try memory.load(UInt64.self, at: Self.target + 8) == Self.guardAbove)
    }

    @Test(arguments: operations)
    func doublewordAMOsReturnTheOldValueAndStoreTheResult(_ operation: Operation) throws {
        for old in Self.values {
            for operand in Self.values {
                try fill(old)
                #expect(try run(operation.doubleword, operand: operand) == old)
                #expect(try memory.load(UInt64.self, at: Self.target) == operation.reference(old, operand, bits: 64))
                try expectGuardsIntact()
            }
        }
    }

    @Test(arguments: operations)
    func wordAMOsSignExtendTheOldValueAndStoreOnlyTheWord(_ operation: Operation) throws {
        for old in Self.values {
            for operand in Self.values {
                try fill(old)
                let extended = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: old)))
                #expect(try run(operation.word, operand: operand) == extended)
                let stored = try memory.load(UInt64.self, at: Self.target)
                #expect(stored & 0xffff_ffff == operation.reference(old, operand, bits: 32))
                #expect(stored >> 32 == old >> 32, "the upper word is left alone")
                try expectGuardsIntact()
            }
        }
    }

    @Test func someAMOsByHand() throws {
        try fill(0xffff_ffff_8000_0000)
        #expect(try run(.amoadd_w, operand: 0x8000_0001) == 0xffff_ffff_8000_0000)
        #expect(try memory.load(UInt64.self, at: Self.target) == 0xffff_ffff_0000_0001)
        #expect(try run(.amomin_w, operand: 0xffff_fffe) == 1)  // -2 < 1
        #expect(try memory.load(UInt32.self, at: Self.target) == 0xffff_fffe)
        #expect(try run(.amominu_w, operand: 7) == 0xffff_ffff_ffff_fffe)
        #expect(try memory.load(UInt32.self, at: Self.target) == 7)
        try fill(0x8000_0000_0000_0000)
        #expect(try run(.amomax_d, operand: 5) == 0x8000_0000_0000_0000)
        #expect(try memory.load(UInt64.self, at: Self.target) == 5)
        #expect(try run(.amomaxu_d, operand: 0x8000_0000_0000_0000) == 5)
        #expect(try run(.amoxor_d, operand: ~0, ordering: 3) == 0x8000_0000_0000_0000)
        #expect(try memory.load(UInt64.self, at: Self.target) == 0x7fff_ffff_ffff_ffff)
    }

    // MARK: LR/SC

    @Test func lrThenScStores() throws {
        try fill(0x1234_5678_8000_0000)
        #expect(try run(.lr_w) == 0xffff_ffff_8000_0000, "lr.w sign-extends")
        #expect(try run(.sc_w, operand: 0xaaaa_aaaa_bbbb_bbbb) == 0)
        #expect(try memory.load(UInt64.self, at: Self.target) == 0x1234_5678_bbbb_bbbb)
        #expect(hart.slots[HartState.Slot.reservation] == HartState.noReservation)

        try fill(0x8000_0000_0000_0001)
        #expect(try run(.lr_d, ordering: 3) == 0x8000_0000_0000_0001)
        #expect(try run(.sc_d, operand: 0x0102_0304_0506_0708, ordering: 3) == 0)
        #expect(try memory.load(UInt64.self, at: Self.target) == 0x0102_0304_0506_0708)
        try expectGuardsIntact()
    }

    @Test func scFailsWithoutAReservationAndAfterASuccessfulOne() throws {
        try fill(7)
        #expect(try run(.sc_d, operand: 9) == 1)
        #expect(try run(.sc_w, operand: 9) == 1)
        #expect(try memory.load(UInt64.self, at: Self.target) == 7)
        _ = try run(.lr_d)
        #expect(try run(.sc_d, operand: 8) == 0)
        #expect(try run(.sc_d, operand: 9) == 1, "the first SC used the reservation up")
        #expect(try memory.load(UInt64.self, at: Self.target) == 8)
    }

    @Test func scFailsAfterAnotherHartStoresADifferentValue() throws {
        try fill(40)
        _ = try run(.lr_d)
        try memory.store(UInt64(41), at: Self.target)  // another hart's plain store
        #expect(try run(.sc_d, operand: 42) == 1)
        #expect(try memory.load(UInt64.self, at: Self.target) == 41)

        _ = try run(.lr_w)
        let other = HartState()
        let atomic = GuestAtomic(.amoadd_w, ordering: 0)!
        _ = try memory.execute(atomic, address: Self.target, operand: 1, slots: other.slots)
        #expect(try run(.sc_w, operand: 100) == 1)
        #expect(try memory.load(UInt64.self, at: Self.target) == 42)
    }

    /// The documented ABA case: a store of the value the LR loaded does not break the
    /// reservation (the compare-and-swap cannot see it).
    @Test func scSucceedsAfterAStoreOfTheSameValue() throws {
        try fill(40)
        _ = try run(.lr_d)
        try memory.store(UInt64(40), at: Self.target)
        #expect(try run(.sc_d, operand: 42) == 0)
        #expect(try memory.load(UInt64.self, at: Self.target) == 42)
    }

    @Test func scFailsAtAnotherAddressOrWidth() throws {
        try fill(0)
        _ = try run(.lr_w)
        #expect(try run(.sc_d, operand: 5) == 1, "lr.w then sc.d")
        _ = try run(.lr_d)
        #expect(try run(.sc_w, operand: 5) == 1, "lr.d then sc.w")
        _ = try run(.lr_d)
        #expect(try run(.sc_w, at: Self.target + 4, operand: 5) == 1, "sc.w on the upper word")
        _ = try run(.lr_d)
        #expect(try run(.sc_d, at: Self.target + 8, operand: 5) == 1, "another doubleword")
        #expect(try memory.load(UInt64.self, at: Self.target) == 0)
        try expectGuardsIntact()
    }

    // MARK: Faults

    @Test func misalignedAddressesFailBeforeAnythingElse() throws {
        for opcode in [Opcode.lr_w, .sc_w, .amoadd_w] {
            #expect(throws: AtomicFailure.misaligned(address: Self.target + 2)) { try run(opcode, at: Self.target + 2) }
        }
        for opcode in [Opcode.lr_d, .sc_d, .amoswap_d] {
            #expect(throws: AtomicFailure.misaligned(address: Self.target + 4)) { try run(opcode, at: Self.target + 4) }
        }
        // Misaligned and unmapped: misaligned wins.
        #expect(throws: AtomicFailure.misaligned(address: 3)) { try run(.amoor_w, at: 3) }
        _ = try run(.lr_d)
        #expect(throws: AtomicFailure.misaligned(address: Self.target + 1)) { try run(.sc_d, at: Self.target + 1) }
        #expect(try run(.sc_d, operand: 1) == 0, "a misaligned SC leaves the reservation")
    }

    @Test func aReadOnlyPageFaultsForAMOsAndSCs() throws {
        let readOnly = Self.page + 0x1008
        let write = GuestFault(address: GuestAddress(readOnly), access: .write, mapped: true)
        #expect(try run(.lr_d, at: readOnly) == 0, "LR only reads")
        // An SC faults whether or not it holds the reservation.
        #expect(throws: AtomicFailure.fault(write)) { try run(.sc_d, at: readOnly, operand: 1) }
        #expect(throws: AtomicFailure.fault(write)) { try run(.sc_w, at: readOnly, operand: 1) }
        // An AMO faults even when it would leave the value as it is.
        #expect(throws: AtomicFailure.fault(write)) { try run(.amoor_d, at: readOnly, operand: 0) }
        #expect(throws: AtomicFailure.fault(write)) { try run(.amomaxu_w, at: readOnly, operand: 0) }
        let unmapped: UInt64 = 0x40_0000
        let read = GuestFault(address: GuestAddress(unmapped), access: .read, mapped: false)
        #expect(throws: AtomicFailure.fault(read)) { try run(.amoadd_d, at: unmapped, operand: 1) }
        #expect(throws: AtomicFailure.fault(read)) { try run(.lr_w, at: unmapped) }
    }

    @Test func onlyTheAExtensionIsAnAtomic() {
        let atomics = Opcode.allCases.filter { GuestAtomic($0, ordering: 0) != nil }
        #expect(atomics.count == 22)
        let amos = Self.operations.flatMap { [$0.word, $0.doubleword] }
        #expect(Set(atomics) == Set(amos + [.lr_w, .sc_w, .lr_d, .sc_d]))
    }

    // MARK: Host threads racing

    /// Four host threads, each with its own hart, add, or, and take a min on the same words,
    /// and increment through LR/SC retry loops: every total is exact.
    @Test func racingHartsLoseNoUpdate() throws {
        let threads = 4
        let rounds = 20_000
        let counter = Self.target
        let lrsc = Self.target + 8
        let bits = Self.target + 16
        let minimum = Self.target + 24
        try memory.store(UInt64(0), at: counter)
        try memory.store(UInt64(0), at: lrsc)
        try memory.store(UInt64(0), at: bits)
        try memory.store(UInt64.max, at: minimum)
        let memory = self.memory
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            let hart = HartState()
            func run(_ opcode: Opcode, _ address: UInt64, _ operand: UInt64 = 0) -> UInt64 {
                try! memory.execute(GuestAtomic(opcode, ordering: 0)!, address: address, operand: operand, slots: hart.slots)
            }
            for round in 0..<rounds {
                _ = run(.amoadd_d, counter, 1)
                _ = run(.amoadd_w, counter + 4, 3)
                _ = run(.amoor_d, bits, 1 << UInt64((thread * 16 + round) % 64))
                _ = run(.amominu_d, minimum, UInt64(thread * rounds + round) + 5)
                while true {
                    let old = run(.lr_d, lrsc)
                    if run(.sc_d, lrsc, old + 1) == 0 { break }
                }
            }
        }
        let total = UInt64(threads * rounds)
        #expect(try memory.load(UInt32.self, at: counter) == UInt32(total))
        #expect(try memory.load(UInt32.self, at: counter + 4) == UInt32(3 * total))
        #expect(try memory.load(UInt64.self, at: lrsc) == total)
        #expect(try memory.load(UInt64.self, at: bits) == ~0)
        #expect(try memory.load(UInt64.self, at: minimum) == 5)
    }
}
