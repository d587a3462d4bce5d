// The text form (`.rvir`) of a function. Parser.swift reads exactly what this writes:
// print -> parse -> print is the identity. Value and block numbers are printed as they are
// (gaps after passes are kept), so a function reads the same before and after a pass.

extension Function {
    /// The function in text form, ending with a newline.
    public var text: String {
        var out = "function %\(name)("
        var sections: [String] = []
        if !slots.isEmpty {
            sections.append("slots: " + slots.map { "\($0.name): \($0.type) @\($0.offset)" }.joined(separator: ", "))
        }
        if !helpers.isEmpty {
            sections.append("helpers: " + helpers.map(Function.helperText).joined(separator: ", "))
        }
        out += sections.joined(separator: "; ") + ") {\n"
        for b in layout {
            out += "\(b)"
            let params = blocks[b.id].params
            if !params.isEmpty { out += "(" + params.map { "\($0): \(type($0))" }.joined(separator: ", ") + ")" }
            out += ":\n"
            for inst in blocks[b.id].insts { out += "    " + text(of: inst) + "\n" }
        }
        out += "}\n"
        return out
    }

    /// `@name(i64, i64) -> i64 pure`.
    static func helperText(_ h: HelperDecl) -> String {
        var s = "@\(h.name)(" + h.params.map(\.description).joined(separator: ", ") + ")"
        if let r = h.result { s += " -> \(r)" }
        for (flag, name) in Effects.helperFlagNames where h.effects.contains(flag) { s += " " + name }
        return s
    }

    /// One instruction in text form, without indentation.
    public func text(of inst: Inst) -> String {
        let data = insts[inst.id]
        let info = data.opcode.info
        var s = ""
        if let r = data.result { s += "\(r) = " }
        s += info.name
        if info.controlling != .none { s += ".\(data.type)" }
        let operands = args(inst).map(\.description).joined(separator: ", ")
        switch info.format {
        case .constant:
            if data.opcode == .iconst {
                s += " \(Int64(bitPattern: data.imm))"
            } else if data.opcode == .bconst {
                s += data.imm != 0 ? " true" : " false"
            } else {
                s += " 0x" + String(data.imm, radix: 16)
            }
        case .unary, .binary, .ternary, .load, .store:
            s += " " + operands
        case .compare:
            let cond =
                data.opcode == .icmp
                ? (IntCondition(rawValue: UInt8(truncatingIfNeeded: data.imm))?.name ?? "?")
                : (FloatCondition(rawValue: UInt8(truncatingIfNeeded: data.imm))?.name ?? "?")
            s += " \(cond) " + operands
        case .getSlot:
            s += " " + slotName(data.imm)
        case .setSlot:
            s += " " + slotName(data.imm) + ", " + operands
        case .call:
            let h = Int(data.imm) < helpers.count ? helpers[Int(data.imm)].name : "?\(data.imm)"
            s += " @\(h)(" + operands + ")"
        case .jump:
            s += " " + callText(data.destination0)
        case .brif:
            s += " " + operands + ", " + callText(data.destination0) + ", " + callText(data.destination1)
        case .exit:
            s += " pc=\(exitState(inst)?.pc ?? GuestAddress(0))"
        case .exitIndirect:
            s += " " + operands
        case .trap:
            break
        }
        if let state = exitState(inst) {
            let entries = state.entries.map { "\(slotName(UInt64($0.slot.index)))=\($0.value)" }
            switch info.format {
            case .exit, .exitIndirect:
                if !entries.isEmpty { s += " [" + entries.joined(separator: " ") + "]" }
            case .constant, .unary, .binary, .ternary, .compare, .getSlot, .setSlot, .load, .store, .call, .jump,
                .brif, .trap:
                s += " [" + (["pc=\(state.pc)"] + entries).joined(separator: " ") + "]"
            }
        }
        return s
    }

    private func slotName(_ index: UInt64) -> String {
        Int(index) < slots.count ? slots[Int(index)].name : "?slot\(index)"
    }

    private func callText(_ call: BlockCall) -> String {
        if call.args.count == 0 { return "\(call.block)" }
        return "\(call.block)(" + list(call.args).map(\.description).joined(separator: ", ") + ")"
    }
}
