import Foundation
import RivetIR
import Testing

/// Measures the tier-2 pipeline on a function shaped like a frontend's output for a hot loop
/// (every guest instruction reads its sources with get_slot and writes its result with
/// set_slot; loads with exit states; a loop back edge and side exits). Prints the figure;
/// asserts nothing about time. Run in release:
/// `RIVET_IR_BENCH=1 swift test -c release --filter PipelineBenchmark`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["RIVET_IR_BENCH"] != nil, "set RIVET_IR_BENCH=1 to measure"))
struct PipelineBenchmark {
    /// A loop of `blocks` guest blocks of `perBlock` guest instructions each.
    static func guestLoop(blocks: Int, perBlock: Int) -> Function {
        var b = FunctionBuilder(name: "hot")
        let regs = (1..<32).map { b.declareSlot("x\($0)", .i64, offset: 8 * $0) }
        var pc: UInt64 = 0x10000
        let header = b.appendBlock()
        b.jump(header)
        var current = header
        for i in 0..<blocks {
            b.switchTo(current)
            for k in 0..<perBlock {
                pc += 4
                let rd = regs[(i * 7 + k * 3) % 31], rs1 = regs[(i + k * 5) % 31], rs2 = regs[(k * 11 + 2) % 31]
                let a = b.getSlot(rs1)
                let result: Value
                switch k % 4 {
                case 0: result = b.binary(.iadd, a, b.getSlot(rs2))
                case 1: result = b.load(.loadI64, b.binary(.iadd, a, b.iconst(Int64(8 * k))), exit: ExitState(pc: GuestAddress(pc)))
                case 2: result = b.unary(.sext32, b.binary(.isub, a, b.getSlot(rs2)))
                default: result = b.binary(.bxor, a, b.iconst(Int64(k)))
                }
                b.setSlot(rd, result)
            }
            let next = i + 1 < blocks ? b.appendBlock() : header
            let exitBlock = b.appendBlock()
            let c = b.icmp(.ult, b.getSlot(regs[i % 31]), b.getSlot(regs[(i + 1) % 31]))
            b.brif(c, next, [], exitBlock, [])
            b.switchTo(exitBlock)
            b.exit(ExitState(pc: GuestAddress(pc + 4)))
            current = next
        }
        return b.function
    }

    @Test func pipeline() throws {
        let f = Self.guestLoop(blocks: 10, perBlock: 30)
        let instructions = f.liveInsts.count
        let rounds = 50
        var output = f
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<rounds {
            output = f
            try PassManager(verifyEachPass: false).run(Pipeline.tier2, on: &output)
        }
        let elapsed = (clock.now - start) / rounds
        let micros = Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6
        print(
            "tier-2 pipeline: \(instructions) IR instructions in, \(output.liveInsts.count) out, "
                + "\(Int(micros)) us per run, \(String(format: "%.2f", micros * 1000 / Double(instructions))) ns per instruction")
        // Each pass in pipeline order, on what the passes before it produced.
        var input = f
        for pass in Pipeline.tier2 {
            var g = input
            let s = clock.now
            for _ in 0..<rounds {
                g = input
                pass.run(&g)
            }
            print("  \(pass.rawValue): \((clock.now - s) / rounds)")
            input = g
        }
        try Verifier.verify(output)
    }
}
