#if canImport(Glibc)
import Glibc
#endif
import RivetIR
import RivetISA

/// Tier 2 from a compile request to code the engine places: the frontend (RISC-V to IR), the
/// pass pipeline, the backend. Runs on a compile worker (or, in `--tier opt`, on the guest
/// thread); touches nothing but the request.
enum RegionCompiler {
    /// Compiles `request` (a block decoded on the guest thread) as a tier-2 region, or nil if
    /// the frontend or the backend cannot (its first instruction is not modelled, the backend
    /// does not lower what the region needs).
    static func compile(_ request: CompileRequest) -> CompiledBlock? {
        // The time a region takes is the compiling thread's CPU time: a worker shares the host's
        // cores with the guest, and its wall time counted the time it waited for one (on two
        // cores, SQLite's regions took 44 ms of wall time and 28 of CPU time).
        let start = threadCPUNanoseconds()
        let header = request.block.prefix(request.regionHeaderLength ?? request.block.count)
        let blocks = [RegionFrontend.GuestBlock(pc: request.pc, instructions: header.map(\.instruction))]
            + request.regionBlocks.map { RegionFrontend.GuestBlock(pc: $0.pc, instructions: $0.decoded.map(\.instruction)) }
        guard var region = RegionFrontend.translate(blocks, indirectTargets: request.regionIndirectTargets) else { return nil }
        let before = dumpDirectory == nil ? "" : region.function.text
        let instructionsBefore = irInstructions(region.function)
        do {
            try PassManager().run(Pipeline.tier2, on: &region.function)
        } catch {
            // Only with verification on (debug builds): a pass broke the function.
            report("tier 2: a pass broke the region at 0x\(String(request.pc, radix: 16)): \(error)")
            return nil
        }
        var index: [UInt64: Int] = [:]
        for (k, pc) in region.pcs.enumerated() { index[pc] = k }
        guard let code = Tier2Backend.compile(region.function, id: request.id, instructionIndex: index) else { return nil }
        let bytes = code.assembler.buffer.bytes
        guard bytes.count < Translation.maxOptimizedCode else { return nil }
        let elapsed = threadCPUNanoseconds() &- start
        if let directory = dumpDirectory {
            let name = directory + "/" + String(request.pc, radix: 16)
            write(before, to: name + ".before.rvir")
            write(region.function.text, to: name + ".after.rvir")
        }
        return CompiledBlock(
            request: request, code: bytes, instructionStarts: [UInt32](filled: 0, count: region.instructions),
            exits: code.exits, cachedRegisters: [], isLoop: region.isLoop, compileNanoseconds: elapsed,
            optimized: OptimizedCode(
                sites: code.faultSites, irInstructions: (instructionsBefore, irInstructions(region.function)),
                pcs: region.pcs, refunds: region.refunds,
                guestRanges: guestRanges(request), blocks: blocks.count, accruesFlags: code.accruesFlags,
                entryBudget: code.entryBudget, dispatches: !request.regionIndirectTargets.isEmpty))
    }

    /// The guest addresses of the request's blocks, in order, overlapping or adjacent ones as
    /// one range (not their hull: a callee may lie far from its caller).
    static func guestRanges(_ request: CompileRequest) -> [Range<UInt64>] {
        let ranges = ([request.pc..<request.guestEnd] + request.regionBlocks.map { $0.pc..<$0.end }).sorted {
            $0.lowerBound < $1.lowerBound
        }
        var merged: [Range<UInt64>] = []
        for range in ranges {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }

    /// Instructions in `f`'s blocks.
    static func irInstructions(_ f: Function) -> Int {
        f.layout.reduce(0) { $0 + f.blocks[$1.id].insts.count }
    }

    /// Where to write each region's IR before and after the passes (`RIVET_IR_DUMP=DIR`):
    /// `DIR/PC.before.rvir` and `DIR/PC.after.rvir`.
    static let dumpDirectory: String? = {
        guard let value = getenv("RIVET_IR_DUMP") else { return nil }
        return String(cString: value)
    }()

    private static func write(_ text: String, to path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        var text = text
        text.withUTF8 { _ = Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    private static func report(_ message: String) {
        let line = "rivet: " + message + "\n"
        line.withCString { _ = Glibc.write(2, $0, strlen($0)) }
    }
}
