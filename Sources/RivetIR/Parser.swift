// Reads the text form that Printer.swift writes. Value and block numbers are kept as written
// (numbers skipped become undefined placeholder values), so print -> parse -> print is exact.
// Comments run from `;` to the end of the line, except inside the parentheses of the function
// header, where `;` separates the slot and helper lists.

/// A syntax error, with where it is.
public struct ParseError: Error, CustomStringConvertible, Equatable {
    /// 1-based line.
    public var line: Int
    /// 1-based column.
    public var column: Int
    /// What is wrong.
    public var message: String
    public var description: String { "\(line):\(column): \(message)" }
    /// An error at a place.
    public init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }
}

private enum TokenKind: Equatable {
    case ident  // letters, digits, `_` and `.`
    case percent  // %name
    case at  // @name or @123
    case number  // 12, -12, 0x1f
    case punct  // one of ( ) { } : , = [ ] and the arrow ->
    case end
}

private struct Token {
    var kind: TokenKind
    var text: Substring
    var line: Int
    var column: Int
}

/// Splits text into tokens.
private struct Lexer {
    let source: String
    var tokens: [Token] = []

    init(_ source: String) throws(ParseError) {
        self.source = source
        var line = 1, column = 1, depth = 0
        var i = source.startIndex
        func isIdent(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" || c == "." }
        while i < source.endIndex {
            let c = source[i]
            if c == "\n" {
                line += 1
                column = 1
                i = source.index(after: i)
                continue
            }
            if c == " " || c == "\t" || c == "\r" {
                column += 1
                i = source.index(after: i)
                continue
            }
            if c == ";" && depth == 0 {
                while i < source.endIndex && source[i] != "\n" { i = source.index(after: i) }
                continue
            }
            let start = i, startColumn = column
            var kind = TokenKind.punct
            if c == "-" && source.index(after: i) < source.endIndex && source[source.index(after: i)] == ">" {
                i = source.index(i, offsetBy: 2)
            } else if "(){}:,=[];".contains(c) {
                if c == "(" { depth += 1 }
                if c == ")" { depth -= 1 }
                i = source.index(after: i)
            } else if c == "%" || c == "@" {
                kind = c == "%" ? .percent : .at
                i = source.index(after: i)
                while i < source.endIndex && isIdent(source[i]) { i = source.index(after: i) }
            } else if c.isNumber || c == "-" {
                kind = .number
                i = source.index(after: i)
                while i < source.endIndex && (source[i].isHexDigit || source[i] == "x") { i = source.index(after: i) }
            } else if isIdent(c) {
                kind = .ident
                while i < source.endIndex && isIdent(source[i]) { i = source.index(after: i) }
            } else {
                throw ParseError(line: line, column: column, message: "unexpected character '\(c)'")
            }
            column += source.distance(from: start, to: i)
            tokens.append(Token(kind: kind, text: source[start..<i], line: line, column: startColumn))
        }
        tokens.append(Token(kind: .end, text: "", line: line, column: column))
    }
}

/// Parses functions in text form.
public struct Parser {
    private var tokens: [Token]
    private var position = 0
    private var function = Function(name: "")
    private var slotsByName: [Substring: Slot] = [:]
    private var helpersByName: [Substring: HelperRef] = [:]
    private var definedBlocks: [Bool] = []
    private var firstBlockUse: [Int: Token] = [:]
    private var definedValues: [Bool] = []
    private var firstValueUse: [Int: Token] = [:]

    /// Parses one function.
    /// - Throws: `ParseError` naming the line and column of the first error.
    public static func parse(_ text: String) throws(ParseError) -> Function {
        var parser = Parser(tokens: try Lexer(text).tokens)
        return try parser.parseFunction()
    }

    private init(tokens: [Token]) { self.tokens = tokens }

    // MARK: Tokens

    private var peek: Token { tokens[position] }

    private func error(_ message: String, at token: Token? = nil) -> ParseError {
        let t = token ?? peek
        return ParseError(line: t.line, column: t.column, message: message)
    }

    private mutating func next() -> Token {
        let t = tokens[position]
        if t.kind != .end { position += 1 }
        return t
    }

    private mutating func accept(_ punct: Substring) -> Bool {
        if peek.kind == .punct && peek.text == punct {
            position += 1
            return true
        }
        return false
    }

    private mutating func expect(_ punct: Substring) throws(ParseError) {
        guard accept(punct) else { throw error("expected '\(punct)', found '\(peek.text)'") }
    }

    private mutating func expectIdent(_ what: String) throws(ParseError) -> Token {
        guard peek.kind == .ident else { throw error("expected \(what), found '\(peek.text)'") }
        return next()
    }

    private mutating func number() throws(ParseError) -> UInt64 {
        let t = next()
        guard t.kind == .number else { throw error("expected a number, found '\(t.text)'", at: t) }
        var text = t.text
        let negative = text.hasPrefix("-")
        if negative { text = text.dropFirst() }
        let magnitude: UInt64?
        if text.hasPrefix("0x") { magnitude = UInt64(text.dropFirst(2), radix: 16) } else { magnitude = UInt64(text) }
        guard let magnitude else { throw error("malformed number '\(t.text)'", at: t) }
        if negative {
            guard magnitude <= UInt64(1) << 63 else { throw error("number out of range '\(t.text)'", at: t) }
            return 0 &- magnitude
        }
        return magnitude
    }

    private mutating func type() throws(ParseError) -> IRType {
        let t = try expectIdent("a type")
        guard let type = IRType(name: t.text) else { throw error("unknown type '\(t.text)'", at: t) }
        return type
    }

    // MARK: Entities

    private mutating func valueNumber(_ t: Token) throws(ParseError) -> Int {
        guard t.kind == .ident, t.text.hasPrefix("v"), let n = Int(t.text.dropFirst()), n < 1 << 20 else {
            throw error("expected a value, found '\(t.text)'", at: t)
        }
        while function.values.count <= n {
            _ = function.makeValue(.i64)
            definedValues.append(false)
        }
        return n
    }

    private mutating func useValue() throws(ParseError) -> Value {
        let t = next()
        let n = try valueNumber(t)
        if !definedValues[n] && firstValueUse[n] == nil { firstValueUse[n] = t }
        return Value(n)
    }

    private mutating func defineValue(_ t: Token, _ type: IRType, _ def: ValueDef) throws(ParseError) -> Value {
        let n = try valueNumber(t)
        guard !definedValues[n] else { throw error("value \(t.text) defined twice", at: t) }
        definedValues[n] = true
        function.values[n] = ValueData(type: type, def: def)
        return Value(n)
    }

    private mutating func blockRef(_ t: Token) throws(ParseError) -> Block {
        guard t.kind == .ident, t.text.hasPrefix("block"), let n = Int(t.text.dropFirst(5)), n < 1 << 20 else {
            throw error("expected a block, found '\(t.text)'", at: t)
        }
        while function.blocks.count <= n {
            _ = function.makeBlock()
            definedBlocks.append(false)
        }
        if !definedBlocks[n] && firstBlockUse[n] == nil { firstBlockUse[n] = t }
        return Block(n)
    }

    private mutating func slot() throws(ParseError) -> Slot {
        let t = try expectIdent("a slot")
        guard let s = slotsByName[t.text] else { throw error("unknown slot '\(t.text)'", at: t) }
        return s
    }

    // MARK: Function

    private mutating func parseFunction() throws(ParseError) -> Function {
        let keyword = try expectIdent("'function'")
        guard keyword.text == "function" else { throw error("expected 'function'", at: keyword) }
        let name = next()
        guard name.kind == .percent else { throw error("expected %name", at: name) }
        function.name = String(name.text.dropFirst())
        try expect("(")
        while !accept(")") {
            let section = try expectIdent("'slots' or 'helpers'")
            try expect(":")
            if section.text == "slots" {
                repeat {
                    let n = try expectIdent("a slot name")
                    try expect(":")
                    let t = try type()
                    let offset = next()
                    guard offset.kind == .at, let o = Int(offset.text.dropFirst()) else {
                        throw error("expected @offset", at: offset)
                    }
                    guard slotsByName[n.text] == nil else { throw error("slot '\(n.text)' declared twice", at: n) }
                    slotsByName[n.text] = Slot(function.slots.count)
                    function.slots.append(SlotDecl(name: String(n.text), type: t, offset: o))
                } while accept(",")
            } else if section.text == "helpers" {
                repeat { try helper() } while accept(",")
            } else {
                throw error("expected 'slots' or 'helpers'", at: section)
            }
            if !accept(";") && !(peek.kind == .punct && peek.text == ")") { throw error("expected ';' or ')'") }
        }
        try expect("{")
        var current: Block? = nil
        while !accept("}") {
            if peek.kind == .end { throw error("expected '}'") }
            if peek.kind == .ident && peek.text.hasPrefix("block") {
                let t = next()
                let b = try blockRef(t)
                guard !definedBlocks[b.id] else { throw error("\(t.text) defined twice", at: t) }
                definedBlocks[b.id] = true
                function.layout.append(b)
                if accept("(") {
                    if !accept(")") {
                        repeat {
                            let v = next()
                            try expect(":")
                            let ty = try type()
                            let value = try defineValue(v, ty, .param(b, function.blocks[b.id].params.count))
                            function.blocks[b.id].params.append(value)
                        } while accept(",")
                        try expect(")")
                    }
                }
                try expect(":")
                current = b
                continue
            }
            guard let block = current else { throw error("instruction outside a block") }
            try instruction(block)
        }
        guard peek.kind == .end else { throw error("text after the function") }
        guard !function.layout.isEmpty else { throw error("function has no blocks") }
        let undefined =
            firstBlockUse.filter { !definedBlocks[$0.key] }.map(\.value)
            + firstValueUse.filter { !definedValues[$0.key] }.map(\.value)
        if let t = undefined.min(by: { ($0.line, $0.column) < ($1.line, $1.column) }) {
            throw error("\(t.text) is never defined", at: t)
        }
        return function
    }

    private mutating func helper() throws(ParseError) {
        let n = next()
        guard n.kind == .at, n.text.count > 1 else { throw error("expected @helper", at: n) }
        var params: [IRType] = []
        try expect("(")
        if !accept(")") {
            repeat { params.append(try type()) } while accept(",")
            try expect(")")
        }
        var result: IRType? = nil
        if accept("->") { result = try type() }
        var effects: Effects = []
        while peek.kind == .ident {
            let f = next()
            guard let flag = Effects.helperFlagNames.first(where: { $0.1 == f.text }) else {
                throw error("unknown helper flag '\(f.text)'", at: f)
            }
            effects.insert(flag.0)
        }
        let name = n.text.dropFirst()
        guard helpersByName[name] == nil else { throw error("helper '@\(name)' declared twice", at: n) }
        helpersByName[name] = HelperRef(function.helpers.count)
        function.helpers.append(HelperDecl(name: String(name), params: params, result: result, effects: effects))
    }

    // MARK: Instructions

    private mutating func blockCall() throws(ParseError) -> BlockCall {
        let b = try blockRef(next())
        var args: [Value] = []
        if accept("(") {
            if !accept(")") {
                repeat { args.append(try useValue()) } while accept(",")
                try expect(")")
            }
        }
        return BlockCall(block: b, args: function.makeList(args))
    }

    private mutating func operands(_ count: Int) throws(ParseError) -> [Value] {
        var values: [Value] = []
        for i in 0..<count {
            if i > 0 { try expect(",") }
            values.append(try useValue())
        }
        return values
    }

    private mutating func exitState(pc: GuestAddress?) throws(ParseError) -> ExitState {
        var state = ExitState(pc: pc ?? GuestAddress(0))
        guard accept("[") else {
            if pc == nil { throw error("expected an exit state '[pc=...]'") }
            return state
        }
        if pc == nil {
            let t = try expectIdent("'pc='")
            guard t.text == "pc" else { throw error("expected 'pc='", at: t) }
            try expect("=")
            state.pc = GuestAddress(try number())
        }
        while !accept("]") {
            let s = try slot()
            try expect("=")
            let v = try useValue()
            if state.entries.contains(where: { $0.slot == s }) {
                throw error("slot '\(function.slots[s.id].name)' twice in an exit state")
            }
            state.entries.append(ExitEntry(slot: s, value: v))
        }
        return state
    }

    private mutating func instruction(_ block: Block) throws(ParseError) {
        var resultToken: Token? = nil
        if peek.kind == .ident && peek.text.hasPrefix("v") && tokens[position + 1].text == "=" {
            resultToken = next()
            try expect("=")
        }
        let nameToken = try expectIdent("an opcode")
        var opcode = Opcode(name: nameToken.text)
        var type = IRType.i64
        if opcode == nil, let dot = nameToken.text.lastIndex(of: ".") {
            opcode = Opcode(name: nameToken.text[..<dot])
            guard let t = IRType(name: nameToken.text[nameToken.text.index(after: dot)...]) else {
                throw error("unknown type suffix in '\(nameToken.text)'", at: nameToken)
            }
            guard let op = opcode, op.info.controlling != .none else {
                throw error("unknown opcode '\(nameToken.text)'", at: nameToken)
            }
            type = t
        }
        guard let opcode else { throw error("unknown opcode '\(nameToken.text)'", at: nameToken) }
        if opcode.info.controlling != .none && !nameToken.text.hasSuffix(".\(type)") {
            throw error("'\(nameToken.text)' needs a type suffix", at: nameToken)
        }
        var imm: UInt64 = 0
        var args: [Value] = []
        var destinations: (BlockCall, BlockCall)? = nil
        var exit: ExitState? = nil
        let none = BlockCall(block: Block(0), args: .empty)
        switch opcode.info.format {
        case .constant:
            if opcode == .bconst {
                let t = try expectIdent("true or false")
                guard t.text == "true" || t.text == "false" else { throw error("expected true or false", at: t) }
                imm = t.text == "true" ? 1 : 0
            } else {
                imm = try number()
                if opcode == .f32const && imm > UInt64(UInt32.max) {
                    throw error("f32 bit pattern wider than 32 bits", at: nameToken)
                }
            }
        case .unary: args = try operands(1)
        case .binary: args = try operands(2)
        case .ternary: args = try operands(3)
        case .compare:
            let c = try expectIdent("a condition")
            if opcode == .icmp {
                guard let cond = IntCondition.allCases.first(where: { $0.name == c.text }) else {
                    throw error("unknown integer condition '\(c.text)'", at: c)
                }
                imm = UInt64(cond.rawValue)
            } else {
                guard let cond = FloatCondition.allCases.first(where: { $0.name == c.text }) else {
                    throw error("unknown float condition '\(c.text)'", at: c)
                }
                imm = UInt64(cond.rawValue)
            }
            args = try operands(2)
        case .getSlot:
            imm = UInt64(try slot().index)
        case .setSlot:
            imm = UInt64(try slot().index)
            try expect(",")
            args = try operands(1)
        case .load:
            args = try operands(1)
            exit = try exitState(pc: nil)
        case .store:
            args = try operands(2)
            exit = try exitState(pc: nil)
        case .call:
            let h = next()
            guard h.kind == .at, let ref = helpersByName[h.text.dropFirst()] else {
                throw error("unknown helper '\(h.text)'", at: h)
            }
            imm = UInt64(ref.index)
            try expect("(")
            if !accept(")") {
                repeat { args.append(try useValue()) } while accept(",")
                try expect(")")
            }
            if peek.kind == .punct && peek.text == "[" { exit = try exitState(pc: nil) }
        case .jump:
            destinations = (try blockCall(), none)
        case .brif:
            args = try operands(1)
            try expect(",")
            let a = try blockCall()
            try expect(",")
            destinations = (a, try blockCall())
        case .exit:
            let t = try expectIdent("'pc='")
            guard t.text == "pc" else { throw error("expected 'pc='", at: t) }
            try expect("=")
            exit = try exitState(pc: GuestAddress(try number()))
        case .exitIndirect:
            args = try operands(1)
            exit = try exitState(pc: GuestAddress(0))
        case .trap:
            break
        }
        let hasResult = function.resultType(opcode, type, imm) != nil
        if hasResult != (resultToken != nil) {
            throw error(hasResult ? "'\(opcode.name)' needs a result" : "'\(opcode.name)' has no result", at: nameToken)
        }
        // The instruction makes a fresh result value; rename it to the number in the text.
        let inst = function.makeInst(opcode, type: type, imm: imm, args: args, destinations: destinations, exit: exit)
        if let resultToken, let made = function.insts[inst.id].result {
            let resultType = function.type(made)
            function.values.removeLast()  // `made` is the newest value
            function.insts[inst.id].result = try defineValue(resultToken, resultType, .inst(inst))
        }
        function.insert(inst, into: block)
    }
}
