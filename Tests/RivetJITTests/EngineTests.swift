import RivetMachine
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import RivetJIT

/// Guest code for the engine's parts to work on: a page of blocks at 0x10000, each `count`
/// `addi a0, a0, 1` followed by a `jal` to the next block (the last jumps to the first).
final class GuestBlocks {
    static let base: UInt64 = 0x10000
    let memory: GuestMemory
    let starts: [UInt64]

    init(blocks: Int, instructions: Int = 2) throws {
        memory = try GuestMemory(limit: 1 << 30)
        try memory.mapAnonymous(at: GuestAddress(Self.base), size: 0x10000, permissions: .readWrite)
        var words: [UInt32] = []
        var starts: [UInt64] = []
        for b in 0..<blocks {
            starts.append(Self.base + UInt64(4 * words.count))
            for _ in 0..<instructions { words.append(0x0015_0513) }  // addi a0, a0, 1
            let next = b == blocks - 1 ? 0 : 4 * (words.count + 1)
            words.append(Self.jal(Int(Self.base) + next - (Int(Self.base) + 4 * words.count)))
        }
        for (k, word) in words.enumerated() { try memory.store(word, at: Self.base + UInt64(4 * k)) }
        try memory.protect(at: GuestAddress(Self.base), size: 0x10000, permissions: .readExecute)
        self.starts = starts
    }

    /// `jal x0, offset`.
    static func jal(_ offset: Int) -> UInt32 {
        let imm = UInt32(bitPattern: Int32(offset)) & 0x1f_ffff
        return ((imm >> 20) & 1) << 31 | ((imm >> 1) & 0x3ff) << 21 | ((imm >> 11) & 1) << 20 | ((imm >> 12) & 0xff) << 12
            | 0x6f
    }

    func request(_ k: Int, id: Int, requested: UInt64 = 0, priority: Double = 1) -> CompileRequest {
        GuestCode.request(at: starts[k], id: id, memory: memory, requested: requested, priority: priority)!
    }
}

/// Tier 1's fetch at pcs where no guest code can be.
@Suite struct GuestCodeFetchTests {
    /// Anywhere in the 64-bit space, the top page included, decoding finds no block (the
    /// interpreter then reports the fault); it once computed the end of the page past the top.
    @Test func wildPCsDecodeToNothing() throws {
        let guest = try GuestBlocks(blocks: 1)
        for pc: UInt64 in [0xffff_ffff_ffff_f000, 0xffff_ffff_ffff_fffe, 1 << 38, (1 << 38) - 2, 0] {
            #expect(GuestCode.decodeBlock(at: pc, memory: guest.memory, limit: 64).isEmpty, "pc \(pc)")
            #expect(GuestCode.request(at: pc, id: 1, memory: guest.memory, requested: 0, priority: 1) == nil)
        }
        #expect(GuestCode.decodeBlock(at: GuestBlocks.base, memory: guest.memory, limit: 64).count == 3)
    }
}

/// A code cache with translations of `GuestBlocks`, built as the engine builds them.
final class CacheFixture {
    let blocks: GuestBlocks
    let cache: TranslationCache
    let runtime: JITRuntime
    var compiler = BlockCompiler()

    init(blocks count: Int, size: Int = 1 << 20) throws {
        blocks = try GuestBlocks(blocks: count)
        cache = TranslationCache(region: CodeRegion(size: size), memory: blocks.memory)
        runtime = try JITRuntime(cache: cache, memory: blocks.memory)
    }

    /// Compiles and installs block `k`.
    @discardableResult
    func install(_ k: Int) -> Translation {
        let id = cache.reserveID()!
        let compiled = compiler.compile(blocks.request(k, id: id))!
        let lengths = JITRuntime.lengths(of: compiled)
        let offsets = cache.region.allocate(hot: lengths.hot, cold: lengths.cold)!
        let t = runtime.place(compiled, at: offsets)
        cache.insert(t)
        return t
    }
}

@Suite struct CodeRegionTests {
    @Test func allocatesFirstFitAlignedAndCoalescesWhatIsReleased() throws {
        let region = CodeRegion(size: 4096)
        // Nothing is mapped until the region is first used.
        #expect(!region.isMapped && region.allocate(16) == nil && region.executableRange.isEmpty)
        try region.map()
        let a = try #require(region.allocate(100))
        let b = try #require(region.allocate(200))
        let c = try #require(region.allocate(50))
        #expect([a, b, c] == [0, 112, 320])
        #expect(region.used == 112 + 208 + 64)
        region.release(offset: b, length: 200)
        // Freed code is int3, so a stale jump into it traps.
        #expect(region.writable(at: b).load(fromByteOffset: 17, as: UInt8.self) == 0xcc)
        // Too big for the hole: after c. Small enough: in the hole, first fit.
        #expect(region.allocate(300) == 384)
        #expect(region.allocate(150) == 112)
        #expect(region.freeRangeCount == 2)
        region.release(offset: 112, length: 150)
        region.release(offset: a, length: 100)
        region.release(offset: c, length: 50)
        region.release(offset: 384, length: 300)
        // Every range merged back into one.
        #expect(region.freeRangeCount == 1)
        #expect(region.used == 0)
        #expect(region.canAllocate(hot: 4096, cold: 0))
        #expect(!region.canAllocate(hot: 4097, cold: 0))
        #expect(region.allocate(4097) == nil)
    }

    @Test func anAlignedAllocationLeavesWhatItSkipsFree() throws {
        let region = CodeRegion(size: 4096)
        try region.map()
        let a = try #require(region.allocate(16))
        // At the next 64-byte boundary; the 48 bytes skipped stay free, first fit for a small one.
        let b = try #require(region.allocate(100, aligned: 64))
        #expect([a, b] == [0, 64])
        #expect(region.used == 16 + 112)
        #expect(region.freeRangeCount == 2)
        #expect(region.allocate(48) == 16)
        #expect(region.freeRangeCount == 1)
        // The hole left before an aligned start is skipped when the start would not fit.
        region.release(offset: 16, length: 48)
        #expect(region.allocate(32, aligned: 64) == 192)
        region.release(offset: a, length: 16)
        region.release(offset: b, length: 100)
        region.release(offset: 192, length: 32)
        #expect(region.freeRangeCount == 1 && region.used == 0)
        // A free range long enough but for its alignment does not count.
        let full = CodeRegion(size: 4096)
        try full.map()
        #expect(full.allocate(16) == 0 && full.allocate(4080) == 16)
        full.release(offset: 16, length: 112)
        #expect(
            full.canAllocate(hot: 96, cold: 0) && !full.canAllocate(hot: 96, cold: 0, aligned: 64)
                && full.canAllocate(hot: 64, cold: 0, aligned: 64))
        #expect(full.allocate(96, aligned: 64) == nil)
    }

    /// With two views (W^X), a forked child moves to a copy of the region taken before the
    /// fork (`Engine.fork`): what is allocated is still at its addresses in both views, what
    /// the old memfd gets after the copy (the parent's writes) does not show, and what is
    /// written next shows in the executable view, from the new memfd.
    @Test func movingToAPrivateCopyKeepsTheCodeAtItsAddresses() throws {
        let region = CodeRegion(size: 4 * 4096, separateViews: true)
        try region.map()
        #expect(region.separateViews)
        let a = try #require(region.allocate(hot: 5000, cold: 300))
        let b = try #require(region.allocate(hot: 200, cold: 0))
        for (offset, length, byte) in [(a.hot, 5000, UInt8(0x11)), (a.cold, 300, 0x22), (b.hot, 200, 0x33)] {
            region.writable(at: offset).initializeMemory(as: UInt8.self, repeating: byte, count: length)
        }
        let range = region.executableRange
        let copy = try #require(try region.copy())
        // Written after the copy was taken: the adopting side does not see it.
        region.writable(at: b.hot).storeBytes(of: 0x55, as: UInt8.self)
        #expect(region.adopt(copy) == nil)
        #expect(region.executableRange == range)
        #expect(region.executable(at: b.hot).load(as: UInt8.self) == 0x33)
        region.writable(at: b.hot).storeBytes(of: 0x33, as: UInt8.self)
        for (offset, length, byte) in [(a.hot, 5000, UInt8(0x11)), (a.cold, 300, 0x22), (b.hot, 200, 0x33)] {
            let code = UnsafeRawBufferPointer(start: region.executable(at: offset), count: length)
            #expect(code.allSatisfy { $0 == byte })
        }
        let c = try #require(region.allocate(64, aligned: 64))
        region.storeCode64(at: c, 0x0123_4567_89ab_cdef)
        #expect(region.executable(at: c).load(as: UInt64.self) == 0x0123_4567_89ab_cdef)
        region.writable(at: a.hot + 4999).storeBytes(of: 0x44, as: UInt8.self)
        #expect(region.executable(at: a.hot + 4999).load(as: UInt8.self) == 0x44)
    }

    /// By default the region is one private mapping: code runs where it is written, nothing is
    /// copied for a fork, and a forked child's writes to the code stay its own (as the
    /// parent's stay the parent's), the kernel copying the pages written.
    @Test func oneMappingComesToAForkedChildCopyOnWrite() throws {
        let region = CodeRegion(size: 2 * 4096)
        try region.map()
        // (A host that refuses memory both writable and executable gets two views instead.)
        guard !region.separateViews else { return }
        let a = try #require(region.allocate(100))
        let written = region.writable(at: a)
        #expect(UnsafeRawPointer(written) == region.executable(at: a))
        written.storeBytes(of: 0x11, as: UInt8.self)
        #expect(try region.copy() == nil)
        // The child only stores and loads bytes before `_exit`: nothing that could wait for a
        // lock the runner's other threads held at the fork.
        let pid = fork()
        if pid == 0 {
            written.storeBytes(of: 0x22, as: UInt8.self)
            _exit(written.load(as: UInt8.self) == 0x22 ? 42 : 1)
        }
        try #require(pid > 0)
        var status: Int32 = 0
        #expect(waitpid(pid, &status, 0) == pid)
        #expect(status >> 8 & 0xff == 42)
        #expect(region.executable(at: a).load(as: UInt8.self) == 0x11)
    }

    /// A translation's hot part goes as low as it fits, its cold part as high: the code that
    /// runs stays together at the bottom. Both fit or neither is taken.
    @Test func aTranslationsColdPartGoesToTheTop() throws {
        let region = CodeRegion(size: 4096)
        try region.map()
        let a = try #require(region.allocate(hot: 100, cold: 40))
        let b = try #require(region.allocate(hot: 60, cold: 20))
        #expect(a == (0, 4096 - 48) && b == (112, 4096 - 48 - 32))
        #expect(region.used == 112 + 48 + 64 + 32 && region.freeRangeCount == 1)
        // In a hole left by an evicted hot part, once the cold part finds a place above it.
        region.release(offset: a.hot, length: 100)
        region.release(offset: a.cold, length: 40)
        let c = try #require(region.allocate(hot: 80, cold: 30))
        #expect(c == (0, 4096 - 32))
        // When the hot part fits but the cold part does not, nothing is taken.
        let used = region.used
        #expect(!region.canAllocate(hot: 16, cold: 4000) && region.allocate(hot: 16, cold: 4000) == nil)
        #expect(region.used == used && region.freeRangeCount == 3)
        // The hot and cold parts may share a range (here the 3,840 bytes from 176), the cold
        // part above the hot one.
        #expect(region.canAllocate(hot: 3744, cold: 96) && !region.canAllocate(hot: 3760, cold: 96))
        let d = try #require(region.allocate(hot: 3744, cold: 96))
        #expect(d == (176, 3920))
        region.release(offset: d.hot, length: 3744)
        region.release(offset: d.cold, length: 96)
        for (offset, length) in [(b.hot, 60), (b.cold, 20), (c.hot, 80), (c.cold, 30)] { region.release(offset: offset, length: length) }
        #expect(region.used == 0 && region.freeRangeCount == 1)
    }
}

@Suite struct TranslationTests {
    /// A tier-2 region's translation may hold more than 64 KiB of code, its exits' offsets
    /// beyond 16 bits (a baseline translation may not: its host instruction table is 16-bit).
    /// The engine places such code as any other (`JITRuntime.place`).
    @Test func aRegionsTranslationMayPass64KiB() {
        let length = 100_000
        let cold = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 16)
        defer { cold.deallocate() }
        let optimized = OptimizedCode(
            sites: [], irInstructions: (0, 0), pcs: [0x1000], refunds: [1], guestRanges: [0x1000..<0x1004], blocks: 1,
            accruesFlags: false)
        let exits = [
            ExitSite(target: 0x2000, patchOffset: 70_001, stubOffset: 99_000),
            ExitSite(target: 0x3000, patchOffset: 12, stubOffset: 65_536),
        ]
        let t = Translation(
            id: 1, guestPC: 0x1000, guestEnd: 0x1004, instructionOffsets: [0], hostOffset: 0, coldOffset: 200_000, cold: cold,
            codeLength: length, coldStart: length, hostInstructionStarts: [0], exits: exits, cachedRegisters: [],
            isLoop: true, compileNanoseconds: 0, optimized: optimized)
        #expect(t.exit(0).target == 0x2000 && t.exit(0).patchOffset == 70_001 && t.exit(0).stubOffset == 99_000)
        #expect(t.exit(1).target == 0x3000 && t.exit(1).patchOffset == 12 && t.exit(1).stubOffset == 65_536)
        #expect(t.hostLength == length && t.regionOffset(ofCode: 99_000) == 99_000)
    }
}

@Suite struct JumpCacheTests {
    @Test func entriesAreSetReplacedAndRemovedByPC() {
        let cache = JumpCache()
        cache.set(pc: 0x1000, entry: 0xAAAA)
        let slot = JumpCache.index(0x1000)
        #expect(cache.table[2 * slot] == 0x1000 && cache.table[2 * slot + 1] == 0xAAAA)
        // A pc sharing the slot replaces it; removing the old pc then changes nothing.
        let alias = 0x1000 + UInt64(JumpCache.entries) * 2
        #expect(JumpCache.index(alias) == slot)
        cache.set(pc: alias, entry: 0xBBBB)
        cache.remove(pc: 0x1000)
        #expect(cache.table[2 * slot] == alias)
        cache.remove(pc: alias)
        #expect(cache.table[2 * slot] == JumpCache.empty)
    }

    /// A fresh table is zeroed but for entry 0: no probe finds an entry, a jump to guest pc 0
    /// (a null function pointer) included, whose entry is the only one a zero pc could match.
    @Test func aFreshTableMatchesNoPC() {
        let cache = JumpCache()
        for pc: UInt64 in [0, 2, 0x1000, 0x10000, UInt64(JumpCache.entries) * 2, 0xffff_fffe] {
            let i = JumpCache.index(pc)
            #expect(cache.table[2 * i] != pc, "pc \(pc) matches a fresh entry")
        }
        #expect(JumpCache.index(0) == 0 && cache.table[0] == JumpCache.empty)
    }
}

@Suite struct TierPolicyTests {
    @Test func theAdaptiveThresholdFollowsTheQueue() {
        var policy = TierPolicy(baseThreshold: 50, adaptive: true)
        var now: UInt64 = 0
        func step(_ length: Int) -> UInt32 {
            now += policy.adaptInterval
            _ = policy.adapt(queueLength: length, now: now)
            return policy.threshold
        }
        #expect(step(100) == 100)
        #expect(step(100) == 200)
        // Not again before the interval has passed.
        let early = policy.adapt(queueLength: 100, now: now + 1)
        #expect(!early)
        #expect(step(10) == 200)  // neither long nor idle
        #expect(step(0) == 100)
        #expect(step(0) == 50)
        #expect(step(0) == 50)  // never below the base
        for _ in 0..<40 { _ = step(1000) }
        #expect(policy.threshold == policy.maxThreshold)
        var fixed = TierPolicy(baseThreshold: 50, adaptive: false)
        let changed = fixed.adapt(queueLength: 1000, now: 1 << 40)
        #expect(!changed)
        #expect(fixed.threshold == 50)
    }

    @Test func aBusyInterpreterWithWarmCodeLowersTheThreshold() {
        var policy = TierPolicy(baseThreshold: 50, adaptive: true)
        var now: UInt64 = 0
        var interpreted: UInt64 = 0
        var executed: UInt64 = 0
        // `share` of the next million instructions run in the interpreter, `hot` blocks turning
        // hot meanwhile (each a call of `adapt`, the last one after the interval).
        func step(_ share: Double, hot: Int = 100, queue: Int = 0) -> UInt32 {
            executed += 1_000_000
            interpreted += UInt64(share * 1_000_000)
            for _ in 0..<hot - 1 { _ = policy.adapt(queueLength: queue, interpreted: interpreted, executed: executed, now: now) }
            now += policy.adaptInterval
            _ = policy.adapt(queueLength: queue, interpreted: interpreted, executed: executed, now: now)
            return policy.threshold
        }
        // The process's start: the C library's loops turn hot while the interpreter decodes
        // everything else. No fall before it ran `settleInstructions`.
        executed = 1000
        for _ in 0..<20 {
            executed += 1000
            interpreted += 900
            for _ in 0..<100 { _ = policy.adapt(queueLength: 0, interpreted: interpreted, executed: executed, now: now) }
            now += policy.adaptInterval
        }
        #expect(policy.threshold == 50)
        _ = step(0)
        #expect(policy.threshold == 50)
        #expect(step(0.5, hot: 3) == 50)  // start-up code: busy, but few blocks turn hot
        #expect(step(0.5) == 12)  // a flat profile: thousands of warm blocks
        #expect(step(0.5) == 3)
        #expect(step(0.5) == policy.minThreshold)
        #expect(step(0.5) == policy.minThreshold)  // never below the minimum
        #expect(step(0, hot: 1) == policy.minThreshold)  // compiled code runs everything: kept low
        #expect(step(0.5, queue: 100) == 2 * policy.minThreshold)  // a long queue raises it
        for _ in 0..<10 { _ = step(0, queue: 100) }
        #expect(step(0) == 1024)  // and it falls back towards the base when the queue drains
        for _ in 0..<10 { _ = step(0) }
        #expect(policy.threshold == 50)
        // A forked child starts from the base again (its code is not the parent's), and its
        // own flat profile lowers it as the parent's did.
        while step(0.5) > policy.minThreshold {}
        policy.restartAfterFork()
        #expect(policy.threshold == 50)
        #expect(step(0.5) == 50)  // the child's own start
        #expect(step(0.5) == 12)
        var fixed = TierPolicy(baseThreshold: 7, adaptive: false)
        fixed.restartAfterFork()
        #expect(fixed.threshold == 7)
    }

    @Test func backOffDoublesPerSetbackAndPriorityIsHotnessTimesGain() {
        let policy = TierPolicy(baseThreshold: 50, adaptive: false)
        #expect(policy.backoffThreshold(deopts: 0) == 50)
        #expect(policy.backoffThreshold(deopts: 3) == 400)
        #expect(policy.backoffThreshold(deopts: 40) == 50 << 16)
        #expect(policy.priority(executions: 10, instructions: 5) == 10 * 5 * policy.baselineGain)
        #expect(policy.priority(executions: 0, instructions: 0) == policy.baselineGain)
    }

    @Test func pcTablesStayBoundedAndDecay() {
        var table = PCTable(capacity: 64, collision: .replace)
        for k in 0..<1000 { table.add(UInt64(2 * k), 3) }
        #expect(table.count <= table.capacity)
        table.add(0x5000, 4)
        #expect(table.value(0x5000) == 4)
        table.halve()
        #expect(table.value(0x5000) == 2)
        table.halve()
        table.halve()
        #expect(table.value(0x5000) == 0)
        #expect(table.count == 0)
        var heavy = PCTable(capacity: 16, collision: .keepLarger)
        heavy.add(0x100, 1000)
        // Every pc that shares 0x100's slot and is lighter leaves it alone.
        for k in 1..<200 { heavy.add(0x100 + UInt64(2 * k), 10) }
        #expect(heavy.value(0x100) == 1000)
    }
}

@Suite struct CompileQueueTests {
    @Test func requestsComeOutByPriorityAgedByTheirWait() throws {
        let blocks = try GuestBlocks(blocks: 6)
        let queue = CompileQueue(threads: 0, capacity: 4)
        // Same time: the hotter first. Twice as hot = made agingNanoseconds earlier.
        let age = UInt64(CompileQueue.agingNanoseconds)
        #expect(queue.submit(blocks.request(0, id: 1, requested: 10 * age, priority: 1)) == .queued)
        #expect(queue.submit(blocks.request(1, id: 2, requested: 10 * age, priority: 8)) == .queued)
        #expect(queue.submit(blocks.request(2, id: 3, requested: 6 * age, priority: 1)) == .queued)
        #expect(queue.submit(blocks.request(3, id: 4, requested: 9 * age, priority: 1)) == .queued)
        // Full: refused.
        #expect(queue.submit(blocks.request(4, id: 5, requested: 0, priority: 1000)) == .refused)
        #expect(queue.refused == 1 && queue.isFull)
        // A second request for a waiting pc merges (and may move it up).
        #expect(queue.submit(blocks.request(0, id: 6, requested: 10 * age, priority: 1_048_576)) == .merged)
        #expect(queue.raise(blocks.starts[3], to: 1, now: 20 * age))  // no higher: stays
        #expect(!queue.raise(blocks.starts[5], to: 1, now: 0))
        // Keys (in units of agingNanoseconds): block 0 at 10 - 20, block 2 at 6, block 1 at
        // 10 - 3, block 3 at 9.
        let order = (0..<4).compactMap { _ in queue.takeNext()?.pc }
        #expect(order == [0, 2, 1, 3].map { blocks.starts[$0] })
        #expect(queue.takeNext() == nil)
        #expect(queue.merged == 2)
    }

    @Test func workersCompileWithinTheirBudgetPerWindow() throws {
        let blocks = try GuestBlocks(blocks: 10)
        let queue = CompileQueue(threads: 1, windowNanoseconds: 60_000_000_000, windowBudget: 3)
        for k in 0..<10 { queue.submit(blocks.request(k, id: k + 1)) }
        var done = 0
        for _ in 0..<200 where done < 3 {
            usleep(5000)
            done += queue.takeResults().completed.count
        }
        usleep(50_000)
        done += queue.takeResults().completed.count
        #expect(done == 3)
        #expect(queue.length == 7)
        queue.shutdown()
    }
}

@Suite struct TranslationCacheTests {
    /// A jump linked to another translation goes straight into it; when the target leaves, the
    /// jump goes back to its exit stub, and neither keeps a link.
    @Test func chainingPatchesAndUnchainingRestores() throws {
        let fixture = try CacheFixture(blocks: 3)
        let a = fixture.install(0)
        let b = fixture.install(1)
        #expect(a.exits == 1 && a.exit(0).target == fixture.blocks.starts[1])
        func jumpTarget(_ t: Translation) -> UInt {
            let site = t.hostOffset + Int(t.exit(0).patchOffset)
            let displacement = fixture.cache.region.writable(at: site).loadUnaligned(as: Int32.self)
            return UInt(bitPattern: fixture.cache.region.executable(at: site + 4)) &+ UInt(bitPattern: Int(displacement))
        }
        // The exit's stub is in the cold part, apart from the code.
        let stubOffset = a.regionOffset(ofCode: Int(a.exit(0).stubOffset))
        #expect(Int(a.exit(0).stubOffset) >= a.hostLength && stubOffset >= a.coldOffset && stubOffset < a.coldOffset + a.coldLength)
        #expect(a.codeOffset(ofRegion: stubOffset) == Int(a.exit(0).stubOffset))
        let stub = UInt(bitPattern: fixture.cache.region.executable(at: stubOffset))
        #expect(jumpTarget(a) == stub)
        fixture.cache.link(a, exit: 0, to: b)
        #expect(jumpTarget(a) == fixture.cache.entry(b))
        #expect(a.linked(0) === b && b.incoming.count == 1)
        fixture.cache.remove(b)
        #expect(jumpTarget(a) == stub)
        #expect(a.linked(0) == nil && b.incoming.isEmpty)
        #expect(fixture.cache.lookup(fixture.blocks.starts[1]) == nil)
        // The instruction tables after the code map host offsets back to guest pcs.
        #expect(a.pc(ofInstruction: 2) == fixture.blocks.starts[0] + 8)
        #expect(a.instruction(atHostOffset: a.hostLength - 1) == a.instructionCount - 1)
    }

    /// A baseline block counts with its first instruction; stopping its counting turns that
    /// instruction into a `nop` of the same length (the rest of the 8 bytes kept), resuming puts
    /// it back, and the sweep stops exactly the blocks whose count reached the limit.
    @Test func countingStopsAtTheLimitAndResumes() throws {
        let fixture = try CacheFixture(blocks: 20)
        let cache = fixture.cache
        cache.countingLimit = 100
        let t = (0..<20).map { fixture.install($0) }
        for b in t { #expect(b.counterOffset == 0 && (b.counterLength == 5 || b.counterLength == 8)) }
        #expect(t.contains { $0.counterLength == 5 } && t.contains { $0.counterLength == 8 })  // disp8 and disp32 ids
        func head(_ b: Translation) -> [UInt8] {
            (0..<8).map { cache.region.executable(at: b.hostOffset).load(fromByteOffset: $0, as: UInt8.self) }
        }
        let before = t.map(head)
        // add qword [r13 + 8·id], 3 (REX.W+B, 83 /0).
        for (b, bytes) in zip(t, before) {
            #expect(bytes[0] == 0x49 && bytes[1] == 0x83 && bytes[Int(b.counterLength) - 1] == 3)
        }
        // Three instructions a run: block 4 reached 100 runs, block 7 one short of it.
        cache.counters[t[4].id] = 300
        cache.counters[t[7].id] = 297
        cache.sweepCounters(64)
        #expect(t[4].counterStopped && !t[7].counterStopped && cache.stoppedCounters == 1)
        let nop: [UInt8] = t[4].counterLength == 5 ? [0x0f, 0x1f, 0x44, 0x00, 0x00] : [0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0]
        let length = Int(t[4].counterLength)
        #expect(Array(head(t[4]).prefix(length)) == nop && Array(head(t[4]).dropFirst(length)) == Array(before[4].dropFirst(length)))
        for k in 0..<20 where k != 4 { #expect(head(t[k]) == before[k]) }
        // Resumed, it counts from where it is, to the limit again.
        cache.resumeCounting(t[4])
        #expect(head(t[4]) == before[4] && !t[4].counterStopped && t[4].countsAreLowerBound)
        cache.sweepCounters(64)
        #expect(!t[4].counterStopped)
        cache.counters[t[4].id] = 600
        cache.sweepCounters(64)
        #expect(t[4].counterStopped && cache.stoppedCounters == 2)
        // A removed block is not patched.
        cache.counters[t[7].id] = 300
        cache.remove(t[7])
        cache.sweepCounters(64)
        #expect(!t[7].counterStopped)
    }

    /// Each policy evicts in its own order: LRU the longest idle, LFU the least run recently,
    /// value the cheapest to recompile per byte and use.
    @Test(arguments: [EvictionPolicy.lru, .lfu, .value])
    func evictionOrderFollowsThePolicy(_ policy: EvictionPolicy) throws {
        let fixture = try CacheFixture(blocks: 4)
        let t = (0..<4).map { fixture.install($0) }
        // Idle since:        3   1   2   4
        // Recent instructions: 10  500 1 100
        for (k, (active, recent)) in [(3, 10.0), (1, 500.0), (2, 1.0), (4, 100.0)].enumerated() {
            t[k].lastActiveEpoch = UInt64(active)
            t[k].recentInstructions = recent
        }
        var evicted = 0
        UsageTracker().evict(from: fixture.cache, policy: policy) {
            evicted += 1
            return evicted > 2
        }
        let survivors = (0..<4).filter { fixture.cache.lookup(fixture.blocks.starts[$0]) != nil }
        switch policy {
        case .lru: #expect(survivors == [0, 3])  // 1 and 2 idle longest
        case .lfu: #expect(survivors == [1, 3])  // 2 and 0 ran least
        case .value:
            // Same code sizes; compile times differ little, so reuse decides.
            #expect(survivors.contains(1) && survivors.count == 2)
        case .flush: break
        }
        #expect(fixture.cache.evictions == 2)
    }
}
