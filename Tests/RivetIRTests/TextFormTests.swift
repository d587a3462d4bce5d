import RivetIR
import Testing

let loopExample = """
    function %loop(slots: x10: i64 @80, x11: i64 @88, f1: f64 @264; helpers: @div(i64, i64) -> i64 pure, @poke(i64, i64) writes_memory can_fault) {
    block0:
        v0 = get_slot.i64 x10
        v1 = iconst 1
        v2 = get_slot.f64 f1
        jump block1(v0, v1)
    block1(v3: i64, v4: i64):
        v5 = iadd v3, v4
        v6 = icmp slt v5, v0
        v7 = load.i64 v5 [pc=0x10074 x10=v3 x11=v5]
        v8 = call @div(v7, v4)
        call @poke(v5, v8) [pc=0x10078]
        v9 = fadd.f64 v2, v2
        v10 = select.i64 v6, v5, v8
        v11 = f64const 0x3ff0000000000000
        v12 = fcmp.f64 lt v9, v11
        store.f64 v5, v9 [pc=0x1007c]
        set_slot x11, v10
        brif v6, block1(v5, v10), block2
    block2:
        v13 = iconst -42
        set_slot f1, v9
        exit pc=0x10080 [x10=v13]
    }

    """

@Suite struct TextFormTests {
    @Test func printParsePrintIsIdentity() throws {
        let f = try Parser.parse(loopExample)
        try Verifier.verify(f)
        #expect(f.text == loopExample)
        #expect(try Parser.parse(f.text).text == f.text)
        let commented = "; leading\n" + loopExample.replacingOccurrences(of: "v1 = iconst 1", with: "v1 = iconst 1 ; one")
        #expect(try Parser.parse(commented).text == loopExample)
    }

    @Test func numbersWithGapsAndForwardUsesRoundTrip() throws {
        let text = """
            function %gaps() {
            block0:
                jump block5
            block3:
                v20 = iadd v9, v9
                exit_indirect v20
            block5:
                v9 = iconst 0x10
                brif v11, block3, block3
                v11 = bconst true
            }

            """
        // (Not a valid function: the verifier has things to say, the parser does not.)
        let f = try Parser.parse(text)
        #expect(f.values.count == 21)
        #expect(throws: VerifierError.self) { try Verifier.verify(f) }
    }

    @Test func parseErrorsNameLineAndColumn() {
        func error(_ text: String) -> ParseError? {
            do {
                _ = try Parser.parse(text)
                return nil
            } catch { return error }
        }
        #expect(error("function %f() {\nblock0:\n    v0 = frob 1\n}\n") == ParseError(line: 3, column: 10, message: "unknown opcode 'frob'"))
        #expect(error("function %f() {\nblock0:\n    v0 = iadd v1, v2\n    exit pc=0x10\n}\n")?.message == "v1 is never defined")
        #expect(error("function %f() {\nblock0:\n    v0 = iconst 1\n    v0 = iconst 2\n}\n")?.line == 4)
        #expect(error("function %f() {\nblock0:\n    v0 = load.i64 v0\n}\n")?.message.contains("exit state") == true)
        #expect(error("function %f() {\nblock0:\n    v0 = get_slot.i64 x1\n}\n")?.message == "unknown slot 'x1'")
        #expect(error("function %f() {\nblock0:\n    jump block9\n}\n")?.message == "block9 is never defined")
        #expect(error("function %f() {\nblock0:\n    v1 = fadd v0, v0\n}\n")?.message.contains("type suffix") == true)
    }

    @Test func builderOutputPrintsAndVerifies() throws {
        var b = FunctionBuilder(name: "built")
        let x5 = b.declareSlot("x5", .i64, offset: 40)
        let h = b.declareHelper("check", params: [.i64], result: nil, effects: [.canFault])
        let loop = b.appendBlock()
        let done = b.appendBlock()
        let start = b.getSlot(x5)
        b.jump(loop, [start])
        b.switchTo(loop)
        let i = b.appendParam(loop, .i64)
        let one = b.iconst(Int64(1))
        let next = b.binary(.isub, i, one)
        b.call(h, [next], exit: ExitState(pc: GuestAddress(0x100), entries: [ExitEntry(slot: x5, value: next)]))
        let zero = b.iconst(UInt64(0))
        let more = b.icmp(.ne, next, zero)
        b.brif(more, loop, [next], done, [])
        b.switchTo(done)
        b.exit(ExitState(pc: GuestAddress(0x200), entries: [ExitEntry(slot: x5, value: next)]))
        try Verifier.verify(b.function)
        let text = b.function.text
        #expect(text.contains("call @check(v3) [pc=0x100 x5=v3]"))
        #expect(try Parser.parse(text).text == text)
    }
}

/// Mangled text never crashes the parser or the verifier: it parses or fails with a located
/// error, and what parses and verifies round-trips.
@Suite struct ParserFuzzTests {
    @Test func mangledTextFailsCleanly() throws {
        let source = Array(loopExample.unicodeScalars)
        let pieces: [String] = ["v", "block", "(", ")", ",", "[", "]", "=", "0x", "-", ";", "\n", "iconst", "9", "@", "%", ":", "pc="]
        var rng = TestRandom(seed: 7)
        var parsed = 0
        for _ in 0..<3000 {
            var text = source
            for _ in 0..<(1 + rng.below(3)) {
                let at = rng.below(text.count)
                switch rng.below(3) {
                case 0: text.remove(at: at)
                case 1: text.insert(contentsOf: pieces[rng.below(pieces.count)].unicodeScalars, at: at)
                default: text[at] = text[rng.below(text.count)]
                }
            }
            let mangled = String(String.UnicodeScalarView(text))
            do {
                let f = try Parser.parse(mangled)
                parsed += 1
                if (try? Verifier.verify(f)) != nil {
                    #expect(try Parser.parse(f.text).text == f.text, "\(mangled)")
                }
            } catch {
                #expect(error.line >= 1 && error.column >= 1 && !error.message.isEmpty)
            }
        }
        #expect(parsed > 0)
    }
}
