import Rivet
import Testing

@Suite struct ExampleTests {
    @Test func helloPrintsItsArgumentsAndExitsWithTheFirst() throws {
        let result = try runGuest(repositoryRoot + "/Examples/hello", arguments: ["7", "two"]) {
            $0.programName = "hello"
        }
        #expect(
            result.standardOutput == """
                Hello from RISC-V! I am hello.
                  argument 1: 7
                  argument 2: two
                fib(90) = 2880067194370816120, sqrt(2) ~ 1.414214

                """)
        #expect(result.reason == .exited(7))
        #expect(result.statistics.instructions > 1000)
    }

    @Test func instructionLimitStopsTheGuestExactly() throws {
        let result = try runGuest(repositoryRoot + "/Examples/hello") { $0.limits.instructions = 5000 }
        #expect(result.reason == .instructionLimitReached)
        #expect(result.statistics.instructions == 5000)
    }

    @Test func malformedProgramIsAnError() throws {
        #expect(throws: RivetError.self) { try runGuest(repositoryRoot + "/README.md") }
    }
}

/// Instruction counting stays exact in compiled code: stopping a guest after N instructions
/// leaves every tier at the same instruction with the same registers.
@Suite struct InstructionLimitTests {
    static let limits: [UInt64] = [1, 7, 1000, 123_457, 2_000_003]

    @Test(arguments: limits)
    func everyTierStopsAtTheSameInstruction(limit: UInt64) throws {
        var states: [(ExecutionTier, String)] = []
        for tier in ExecutionTier.allCases {
            let result = try runGuest(repositoryRoot + "/Tests/RivetTests/Fixtures/bin/stress_codegen") {
                $0.tier = tier
                $0.tierUpThreshold = 2
                $0.limits.instructions = limit
            }
            #expect(result.reason == .instructionLimitReached, "\(tier)")
            #expect(result.statistics.instructions == limit, "\(tier)")
            states.append((tier, result.standardOutput))
        }
        for (tier, output) in states.dropFirst() {
            #expect(output == states[0].1, "output before the limit differs under \(tier)")
        }
    }
}
