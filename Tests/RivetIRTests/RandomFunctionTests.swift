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
        try check(Pipeline.tier2)
    }

    @Test func tier2PipelineIsIdempotentEnoughToRunTwice() throws {
        try check(Pipeline.tier2 + Pipeline.tier2)
    }

    private func check(_ passes: [Pass]) throws {
        var failures = 0
        for seed in Self.seeds {
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
