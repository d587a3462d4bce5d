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
