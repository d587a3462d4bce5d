// An interpreter of the IR: the semantic reference for passes (a pass must not change what the
// evaluator reports) and, later, for the frontend against the RISC-V interpreter. Written for
// clarity, not speed.

/// Guest memory for the evaluator: mapped pages of bytes; an access to an unmapped byte faults.
public struct EvalMemory: Equatable, Sendable {
    /// Page size of the sparse map.
    public static let pageSize: UInt64 = 256
    /// Mapped pages by page number.
    public var pages: [UInt64: [UInt8]] = [:]

    /// An empty (all unmapped) memory.
    public init() {}

    /// Maps `[base, base + size)` (rounded out to pages), zero-filled where not yet mapped.
    public mutating func map(_ base: UInt64, size: UInt64) {
        var page = base / Self.pageSize
        while page * Self.pageSize < base + size {
            if pages[page] == nil { pages[page] = [UInt8](filled: 0, count: Int(Self.pageSize)) }
            page += 1
        }
    }

    /// Whether all bytes of `[address, address + size)` are mapped.
    public func isMapped(_ address: UInt64, _ size: Int) -> Bool {
        for i in 0..<UInt64(size) where pages[(address &+ i) / Self.pageSize] == nil { return false }
        return true
    }

    /// Little-endian load of `size` bytes, or nil if some byte is unmapped.
    public func load(_ address: UInt64, _ size: Int) -> UInt64? {
        guard isMapped(address, size) else { return nil }
        var v: UInt64 = 0
        for i in 0..<UInt64(size) {
            let a = address &+ i
            v |= UInt64(pages[a / Self.pageSize]![Int(a % Self.pageSize)]) << (8 * i)
        }
        return v
    }

    /// Little-endian store of the low `size` bytes; false (and nothing written) if some byte is
    /// unmapped.
    public mutating func store(_ address: UInt64, _ size: Int, _ value: UInt64) -> Bool {
        guard isMapped(address, size) else { return false }
        for i in 0..<UInt64(size) {
            let a = address &+ i
            pages[a / Self.pageSize]![Int(a % Self.pageSize)] = UInt8(truncatingIfNeeded: value >> (8 * i))
        }
        return true
    }
}

/// What a helper implementation returns.
public enum HelperResult: Sendable {
    /// A result (for a helper with a result type).
    case value(UInt64)
    /// No result (for a helper without one).
    case none
    /// A guest fault: the call's exit state applies.
    case fault
}

/// A helper's implementation for the evaluator: arguments as bits, and the environment to read
/// or change (state, memory) as its declared effects allow.
public typealias HelperImplementation = @Sendable (inout Environment, [UInt64]) -> HelperResult

/// What the evaluated code sees: the state struct (by slot), guest memory, helpers by name.
public struct Environment {
    /// Slot contents as bits, indexed by slot.
    public var slots: [UInt64]
    /// Guest memory.
    public var memory: EvalMemory
    /// Helper implementations by name.
    public var helpers: [String: HelperImplementation]

    /// An environment with these slot contents, memory and helpers.
    public init(slots: [UInt64], memory: EvalMemory = EvalMemory(), helpers: [String: HelperImplementation] = [:]) {
        self.slots = slots
        self.memory = memory
        self.helpers = helpers
    }
}

/// One `slot = bits` update of an exit.
public struct SlotUpdate: Equatable, Sendable {
    /// The slot written.
    public var slot: Slot
    /// Its new contents.
    public var bits: UInt64
    /// An update of `slot` to `bits`.
    public init(slot: Slot, bits: UInt64) {
        self.slot = slot
        self.bits = bits
    }
}

/// How evaluated code left.
public enum Outcome: Equatable, Sendable {
    /// `exit pc=...`, with the exit state's updates.
    case exit(pc: GuestAddress, updates: [SlotUpdate])
    /// `exit_indirect`, with the computed pc.
    case exitIndirect(pc: UInt64, updates: [SlotUpdate])
    /// A fault at an instruction (a load, store or helper), with its exit state's pc and
    /// updates and the faulting address (0 for a helper).
    case fault(at: Inst, pc: GuestAddress, address: UInt64, updates: [SlotUpdate])
    /// `trap` was executed.
    case trap
    /// The step limit was reached.
    case stepLimit
    /// A helper the environment does not implement, or returning the wrong kind of result.
    case badHelper(String)
    /// An entry guard failed (`FloatForms.nanBoxedHelper`, built into the evaluator): nothing
    /// ran, and the code's lower tiers take the region's entry `pc` (a deoptimization).
    case deoptimized(pc: GuestAddress)

    /// The exit state's updates, if any.
    public var updates: [SlotUpdate] {
        switch self {
        case .exit(_, let u), .exitIndirect(_, let u), .fault(_, _, _, let u): return u
        case .trap, .stepLimit, .badHelper, .deoptimized: return []
        }
    }

    /// The outcome without its updates and faulting instruction (what must match between two
    /// versions of a function: the updates may move between the exit state and the struct,
    /// instructions are renumbered).
    public var withoutUpdates: Outcome {
        switch self {
        case .exit(let pc, _): return .exit(pc: pc, updates: [])
        case .exitIndirect(let pc, _): return .exitIndirect(pc: pc, updates: [])
        case .fault(_, let pc, let a, _): return .fault(at: Inst(0), pc: pc, address: a, updates: [])
        case .trap, .stepLimit, .badHelper, .deoptimized: return self
        }
    }
}

/// The IR interpreter.
public enum Evaluator {
    /// Runs `f` from its entry block until it leaves, at most `stepLimit` instructions.
    /// `environment` is updated with the state struct and memory as the code left them (exit
    /// states not applied: see `Outcome.updates`).
    public static func run(_ f: Function, _ environment: inout Environment, stepLimit: Int = 100_000) -> Outcome {
        var values = [UInt64](filled: 0, count: f.values.count)
        var block = f.entry
        var steps = 0
        func updates(_ inst: Inst) -> [SlotUpdate] {
            (f.exitState(inst)?.entries ?? []).map {
                // A single for an i64 slot is NaN-boxed (ExitEntry).
                let boxed = f.type($0.value) == .f32 && f.slots[$0.slot.id].type == .i64
                return SlotUpdate(slot: $0.slot, bits: boxed ? values[$0.value.id] & 0xffff_ffff | 0xffff_ffff_0000_0000 : values[$0.value.id])
            }
        }
        while true {
            for inst in f.blocks[block.id].insts {
                steps += 1
                if steps > stepLimit { return .stepLimit }
                let data = f.insts[inst.id]
                let args = f.args(inst)
                let a = args.count > 0 ? values[args[args.startIndex].id] : 0
                let b = args.count > 1 ? values[args[args.startIndex + 1].id] : 0
                let c = args.count > 2 ? values[args[args.startIndex + 2].id] : 0
                var result: UInt64 = 0
                let op = data.opcode
                switch op {
                case .iconst, .bconst, .f32const, .f64const, .iadd, .isub, .imul, .imulhs, .imulhu, .imulhsu, .sdiv,
                    .udiv, .srem, .urem, .band, .bor, .bxor, .bnot, .ineg, .shl, .ushr, .sshr, .rotl, .rotr, .sext8,
                    .sext16, .sext32, .zext8, .zext16, .zext32, .clz, .ctz, .popcnt, .bswap, .fclass32, .fclass64,
                    .icmp, .select, .bint, .fadd, .fsub, .fmul, .fdiv, .fsqrt, .ffma, .fneg, .fabs, .fmin, .fmax, .fcmp, .fcmpSilent,
                    .bitcast, .f32FromBits, .f32ToBits, .sitof, .ftosi32, .ftosi64, .fpromote, .fdemote:
                    result = Semantics.evaluate(op, type: data.type, imm: data.imm, a, b, c) ?? 0
                case .getSlot: result = environment.slots[Int(data.imm)]
                case .setSlot: environment.slots[Int(data.imm)] = a
                case .loadI64, .uload8, .sload8, .uload16, .sload16, .uload32, .sload32, .loadF32, .loadF64:
                    let size = accessSize(op)
                    guard let raw = environment.memory.load(a, size) else {
                        return .fault(at: inst, pc: f.exitState(inst)?.pc ?? GuestAddress(0), address: a, updates: updates(inst))
                    }
                    result = extend(op, raw)
                case .store8, .store16, .store32, .store64, .storeF32, .storeF64:
                    guard environment.memory.store(a, accessSize(op), b) else {
                        return .fault(at: inst, pc: f.exitState(inst)?.pc ?? GuestAddress(0), address: a, updates: updates(inst))
                    }
                case .call:
                    let helper = f.helpers[Int(data.imm)]
                    if helper.name == FloatForms.nanBoxedHelper, helper.params == [.i64], helper.result == nil {
                        guard values[f.arg(inst, 0).id] >> 32 == 0xffff_ffff else {
                            return .deoptimized(pc: f.exitState(inst)?.pc ?? GuestAddress(0))
                        }
                        break
                    }
                    guard let implementation = environment.helpers[helper.name] else { return .badHelper(helper.name) }
                    switch implementation(&environment, args.map { values[$0.id] }) {
                    case .value(let v):
                        guard helper.result != nil else { return .badHelper(helper.name) }
                        result = v
                    case .none:
                        guard helper.result == nil else { return .badHelper(helper.name) }
                    case .fault:
                        return .fault(at: inst, pc: f.exitState(inst)?.pc ?? GuestAddress(0), address: 0, updates: updates(inst))
                    }
                case .jump, .brif:
                    let destination = op == .jump || a & 1 != 0 ? data.destination0 : data.destination1
                    let incoming = f.list(destination.args).map { values[$0.id] }
                    for (p, v) in zip(f.blocks[destination.block.id].params, incoming) { values[p.id] = v }
                    block = destination.block
                case .exit:
                    return .exit(pc: f.exitState(inst)?.pc ?? GuestAddress(0), updates: updates(inst))
                case .exitIndirect:
                    return .exitIndirect(pc: a, updates: updates(inst))
                case .trap:
                    return .trap
                }
                if let r = data.result { values[r.id] = result }
            }
        }
    }

    /// Bytes a memory access touches.
    public static func accessSize(_ op: Opcode) -> Int {
        switch op {
        case .uload8, .sload8, .store8: return 1
        case .uload16, .sload16, .store16: return 2
        case .uload32, .sload32, .loadF32, .store32, .storeF32: return 4
        case .loadI64, .loadF64, .store64, .storeF64: return 8
        case .iconst, .bconst, .f32const, .f64const, .iadd, .isub, .imul, .imulhs, .imulhu, .imulhsu, .sdiv, .udiv,
            .srem, .urem, .band, .bor, .bxor, .bnot, .ineg, .shl, .ushr, .sshr, .rotl, .rotr, .sext8, .sext16, .sext32,
            .zext8, .zext16, .zext32, .clz, .ctz, .popcnt, .bswap, .fclass32, .fclass64, .icmp, .select, .bint, .fadd,
            .fsub, .fmul, .fdiv, .fsqrt, .ffma, .fneg, .fabs, .fmin, .fmax, .fcmp, .fcmpSilent, .bitcast, .f32FromBits, .f32ToBits,
            .sitof, .ftosi32, .ftosi64, .fpromote, .fdemote, .getSlot, .setSlot, .call, .jump, .brif, .exit,
            .exitIndirect, .trap:
            return 0
        }
    }

    private static func extend(_ op: Opcode, _ raw: UInt64) -> UInt64 {
        switch op {
        case .sload8: return Semantics.evaluate(.sext8, type: .i64, imm: 0, raw, 0, 0) ?? raw
        case .sload16: return Semantics.evaluate(.sext16, type: .i64, imm: 0, raw, 0, 0) ?? raw
        case .sload32: return Semantics.evaluate(.sext32, type: .i64, imm: 0, raw, 0, 0) ?? raw
        case .iconst, .bconst, .f32const, .f64const, .iadd, .isub, .imul, .imulhs, .imulhu, .imulhsu, .sdiv, .udiv,
            .srem, .urem, .band, .bor, .bxor, .bnot, .ineg, .shl, .ushr, .sshr, .rotl, .rotr, .sext8, .sext16, .sext32,
            .zext8, .zext16, .zext32, .clz, .ctz, .popcnt, .bswap, .fclass32, .fclass64, .icmp, .select, .bint, .fadd,
            .fsub, .fmul, .fdiv, .fsqrt, .ffma, .fneg, .fabs, .fmin, .fmax, .fcmp, .fcmpSilent, .bitcast, .f32FromBits, .f32ToBits,
            .sitof, .ftosi32, .ftosi64, .fpromote, .fdemote, .getSlot, .setSlot, .call, .jump, .brif, .exit,
            .exitIndirect, .trap, .loadI64, .uload8, .uload16, .uload32, .loadF32, .loadF64, .store8, .store16,
            .store32, .store64, .storeF32, .storeF64:
            return raw
        }
    }
}
