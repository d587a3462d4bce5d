import RivetIR
import Testing

/// The verifier's complaints about `body` (the blocks of a function with slots x1: i64,
/// f1: f64 and helpers @h(i64) -> i64 pure and @check(i64) can_fault).
private func complaints(_ body: String) throws -> String {
    let text = "function %f(slots: x1: i64 @8, f1: f64 @16; helpers: @h(i64) -> i64 pure, @check(i64) can_fault) {\n" + body + "}\n"
    do {
        try Verifier.verify(try Parser.parse(text))
        return ""
    } catch let error as VerifierError { return error.description }
}

@Suite struct VerifierTests {
    @Test func acceptsAWellFormedFunction() throws {
        #expect(try complaints("block0:\n    v0 = get_slot.i64 x1\n    call @check(v0) [pc=0x4]\n    exit pc=0x8 [x1=v0]\n") == "")
    }

    @Test func operandTypes() throws {
        let e = try complaints("block0:\n    v0 = get_slot.f64 f1\n    v1 = iadd v0, v0\n    exit pc=0x8\n")
        #expect(e.contains("`v1 = iadd v0, v0`: operand v0 has type f64, expected i64"))
    }

    @Test func slotTypes() throws {
        #expect(try complaints("block0:\n    v0 = get_slot.i64 f1\n    exit pc=0x8\n").contains("slot's type f64"))
        #expect(try complaints("block0:\n    v0 = iconst 1\n    exit pc=0x8 [f1=v0]\n").contains("gives f1 a value of type i64"))
    }

    @Test func blockArguments() throws {
        let e = try complaints("block0:\n    v0 = iconst 1\n    jump block1(v0, v0)\nblock1(v1: i64):\n    exit pc=0x8\n")
        #expect(e.contains("block1 takes 1 arguments, given 2"))
        let t = try complaints("block0:\n    v0 = bconst true\n    jump block1(v0)\nblock1(v1: i64):\n    exit pc=0x8\n")
        #expect(t.contains("argument v0 has type b1, block1 expects i64"))
    }

    @Test func terminators() throws {
        #expect(try complaints("block0:\n    v0 = iconst 1\n").contains("does not end with a terminator"))
        #expect(try complaints("block0:\n    trap\n    exit pc=0x8\n").contains("terminator before the end"))
    }

    @Test func dominance() throws {
        let e = try complaints(
            "block0:\n    v0 = bconst true\n    brif v0, block1, block2\nblock1:\n    v1 = iconst 1\n    jump block2\nblock2:\n    exit pc=0x8 [x1=v1]\n")
        #expect(e.contains("`exit pc=0x8 [x1=v1]`: v1 does not dominate this use"))
        let same = try complaints("block0:\n    v1 = iadd v2, v2\n    v2 = iconst 1\n    exit pc=0x8\n")
        #expect(same.contains("v2 does not dominate"))
    }

    @Test func exitStates() throws {
        #expect(try complaints("block0:\n    v0 = iconst 1\n    call @check(v0)\n    exit pc=0x8\n").contains("missing exit state"))
        #expect(try complaints("block0:\n    v0 = iconst 1\n    v1 = call @h(v0) [pc=0x4]\n    exit pc=0x8\n").contains("cannot fault"))
    }

    @Test func entryBlock() throws {
        #expect(try complaints("block0:\n    v0 = iconst 1\n    jump block0\n").contains("entry block has predecessors"))
    }
}
