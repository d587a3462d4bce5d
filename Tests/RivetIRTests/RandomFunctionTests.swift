import RivetIR
import Testing

/// Random functions through every pass alone and through the whole tier-2 pipeline: each
/// result verifies, prints and parses back to the same text, and does what the input did.
@Suite struct RandomFunctionTests {
    static let seeds: Range<UInt64> = 0..<400

    @Test func generatedFunctionsVerifyAndRoundTrip() throws {
        for seed in Self.seeds {
            let f = RandomFunctionGenerator.make(seed: seed)
            do { try Verifier.verify(f) } catch {
                Issue.record("seed \(seed): generated function does not verify: \(error)\n\(f.text)")
                return
            }
            let text = f.text
            #expect(try Parser.parse(text).text == text, "seed \(seed)")
        }
    }

    @Test(arguments: Pass.allCases)
    func passAlonePreservesSemantics(_ pass: Pass) throws {
        try check([pass])
    }

    @Test func tier2PipelinePreservesSemantics() throws {
        try check(Pipeline.tier2, seeds: 0..<2000)
    }

    @Test func tier2PipelineIsIdempotentEnoughToRunTwice() throws {
        try check(Pipeline.tier2 + Pipeline.tier2)
    }

    /// The generator covers what the comparison needs: every way of leaving, loops that run,
    /// functions the pipeline changes.
    @Test func generatorCoversOutcomes() {
        var exits = 0, indirect = 0, faults = 0, limits = 0, looped = 0, changed = 0, withUpdates = 0
        for seed in Self.seeds {
            let f = RandomFunctionGenerator.make(seed: seed)
            var env = randomEnvironment(f, seed: seed)
            let outcome = Evaluator.run(f, &env, stepLimit: 20_000)
            switch outcome {
            case .exit: exits += 1
            case .exitIndirect: indirect += 1
            case .fault: faults += 1
            case .stepLimit: limits += 1
            case .trap, .badHelper, .deoptimized: break
            }
            if !outcome.updates.isEmpty { withUpdates += 1 }
            if ControlFlowGraph(f).reversePostorder.contains(where: { b in
                f.successors(b).contains { ControlFlowGraph(f).rpoIndex[$0.id] <= ControlFlowGraph(f).rpoIndex[b.id] }
            }) { looped += 1 }
            var g = f
            try? PassManager(verifyEachPass: false).run(Pipeline.tier2, on: &g)
            if g.text != f.text { changed += 1 }
        }
        #expect(limits == 0)
        #expect(exits > 40 && indirect > 10 && faults > 40 && withUpdates > 40, "\(exits) \(indirect) \(faults) \(withUpdates)")
        #expect(looped > 40, "\(looped) functions with loops")
        #expect(changed > Self.seeds.count / 2, "\(changed) functions changed by the pipeline")
    }

    private func check(_ passes: [Pass], seeds: Range<UInt64> = Self.seeds) throws {
        var failures = 0
        for seed in seeds {
            let input = RandomFunctionGenerator.make(seed: seed)
            var output = input
            do { try PassManager(verifyEachPass: true).run(passes, on: &output) } catch {
                Issue.record("seed \(seed): \(error)\ninput:\n\(input.text)")
                failures += 1
            }
            let text = output.text
            #expect(try Parser.parse(text).text == text, "seed \(seed)")
            if let difference = semanticDifference(input, output, seeds: 0..<6) {
                Issue.record("seed \(seed): \(passes.map(\.rawValue)) changed behaviour: \(difference)\ninput:\n\(input.text)\noutput:\n\(text)")
                failures += 1
            }
            if failures >= 2 { return }
        }
    }
}

@Suite struct CompactionTests {
    /// After the pipeline, compaction keeps the function's meaning and leaves no holes.
    @Test func compactedFunctionsAreDenseAndEquivalent() throws {
        for seed in UInt64(0)..<300 {
            var f = RandomFunctionGenerator.make(seed: seed)
            try PassManager(verifyEachPass: false).run(Pipeline.tier2, on: &f)
            let c = f.compacted()
            try Verifier.verify(c)
            #expect(c.blocks.count == c.layout.count && c.insts.count == c.liveInsts.count, "seed \(seed)")
            #expect(c.values.allSatisfy { $0.def != .none }, "seed \(seed)")
            #expect(c.exitStates.count == c.liveInsts.filter { c.exitState($0) != nil }.count, "seed \(seed)")
            #expect(try Parser.parse(c.text).text == c.text)
            if let d = semanticDifference(f, c, seeds: 0..<4) { Issue.record("seed \(seed): \(d)\n\(c.text)") }
        }
    }
}
