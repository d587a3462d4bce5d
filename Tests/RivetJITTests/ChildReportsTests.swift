import CRivetHost
import Testing
@testable import RivetJIT

/// The page through which forked children report what they decoded and compiled: a ring that
/// never fills, read in order, past a child that claimed a slot and died.
@Suite struct ChildReportsTests {
    static func takeAll(_ reports: ChildReports) -> [(pc: UInt64, compiled: Bool)] {
        var all: [(pc: UInt64, compiled: Bool)] = []
        while true {
            let some = reports.take(limit: ChildReports.takenPerFork)
            if some.isEmpty { return all }
            all += some
        }
    }

    @Test func reportsComeBackInOrderAndTheRingNeverFills() throws {
        let reports = try #require(ChildReports())
        for k in 0..<100 { reports.report(UInt64(0x1000 + 4 * k), compiled: k % 3 == 0) }
        let first = reports.take(limit: 60)
        let firstPCs: [UInt64] = (0..<60).map { UInt64(0x1000 + 4 * $0) }
        let firstCompiled: [Bool] = (0..<60).map { $0 % 3 == 0 }
        #expect(first.map(\.pc) == firstPCs)
        #expect(first.map(\.compiled) == firstCompiled)
        let restPCs: [UInt64] = (60..<100).map { UInt64(0x1000 + 4 * $0) }
        #expect(reports.take(limit: 1000).map(\.pc) == restPCs)
        #expect(reports.take(limit: 1000).isEmpty)
        // More than two laps while the parent reads nothing: it reads the last lap, the rest
        // lost. (The page used to fill after `capacity` reports and take no more.)
        let count = 2 * ChildReports.capacity + 10
        for k in 0..<count { reports.report(UInt64(8 * (k + 1)), compiled: false) }
        let all = Self.takeAll(reports)
        #expect(all.count == ChildReports.capacity)
        let firstKept = UInt64(8 * (count - ChildReports.capacity + 1)), lastKept = UInt64(8 * count)
        #expect(all.first?.pc == firstKept)
        #expect(all.last?.pc == lastKept)
        // And on: the ring goes round.
        reports.report(0x4242, compiled: true)
        let last = reports.take(limit: 10)
        #expect(last.count == 1 && last.first?.pc == 0x4242 && last.first?.compiled == true)
    }

    @Test func aSlotClaimedAndNeverWrittenHoldsTheParentOnlyForAWhile() throws {
        let reports = try #require(ChildReports())
        for k in 0..<3 { reports.report(UInt64(0x100 + 2 * k), compiled: false) }
        // A child claims a slot and dies before writing it.
        _ = rivet_amo32(reports.base, RIVET_AMO_ADD, 1)
        for k in 0..<10 { reports.report(UInt64(0x200 + 2 * k), compiled: true) }
        // The parent stops at the hole (the child may still write it)...
        let beforeHole: [UInt64] = [0x100, 0x102, 0x104]
        #expect(reports.take(limit: 100).map(\.pc) == beforeHole)
        #expect(reports.take(limit: 100).isEmpty)
        // ... until `patience` slots were claimed after it.
        for k in 0..<ChildReports.patience { reports.report(UInt64(0x10000 + 2 * k), compiled: false) }
        let after = Self.takeAll(reports)
        #expect(after.count == 10 + ChildReports.patience)
        #expect(after.first?.pc == 0x200 && after.first?.compiled == true)
    }
}
