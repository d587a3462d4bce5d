import RivetISA
import RivetMachine
import RivetX64

/// Emits x86-64 template code for one guest block.
///
/// Guest registers live in the hart's slots (`[rbx + 8n]`); each instruction loads its
/// operands into scratch registers (rax, rcx, rdx), computes, and stores its result. Every
/// guest memory access is one bounds check against the address-space size (r12) and one host
/// access at `r15 + address`; the host MMU checks permissions and the fault handler turns a
/// fault into a precise guest trap. Exits are out of line after the body ("stubs").
struct BlockTranslator: ~Copyable {
    var assembler = X64Assembler(capacity: 16 << 10)

    struct Output {
        var instructionStarts: [UInt32]
        var exits: [Translation.Exit]
    }

    /// Code to emit after the block's body.
    enum Stub {
        /// Return `code` to the run loop.
        case exit(X64Label, code: UInt64)
        /// Give back the block's instructions, then return `code`.
        case budget(X64Label, instructions: Int32, code: UInt64)
        /// Store the target pc (in rax) to the hart's pc, then return `code`.
        case indirectMiss(X64Label, code: UInt64)
    }

    var id = 0
    var pc: UInt64 = 0
    var commonExit: UInt64 = 0
    var helpers = HelperAddresses()
    var stubs: [Stub] = []
    var exitJumps: [(target: UInt64, jump: X64PatchableJump, stub: X64Label)] = []
    var starts: [UInt32] = []

    init() {}

    /// Translates `block` (decoded at `pc`) for translation `id`. The code is left in
    /// `assembler`, finished and ready to copy.
    mutating func translate(
        id: Int, pc: UInt64, block: [GuestCode.Decoded], commonExit: UInt64, helpers: HelperAddresses
    ) throws(X64Error) -> Output {
        assembler.reset()
        self.id = id
        self.pc = pc
        self.commonExit = commonExit
        self.helpers = helpers
        stubs.removeAll(keepingCapacity: true)
        exitJumps.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)

        // Entry: take the block's instructions from the budget, or leave if it is short.
        let count = Int32(block.count)
        let short = assembler.newLabel()
        assembler.emit(.alu(.sub, .b64, slot(HartState.Slot.budget), imm: count))
        assembler.jcc(.b, to: short)
        assembler.emit(.unary(.inc, .b64, .at(Pinned.counters, Int32(8 * id))))
        stubs.append(.budget(short, instructions: count, code: code(.budget, 0)))

        var endsWithTransfer = false
        for (k, decoded) in block.enumerated() {
            starts.append(UInt32(assembler.count))
            let instPC = pc + UInt64(decoded.offset)
            endsWithTransfer = decoded.instruction.endsBlock
            emit(decoded.instruction, index: k, pc: instPC)
        }
        if !endsWithTransfer, let last = block.last {
            exit(to: pc + UInt64(last.offset) + UInt64(last.instruction.length))
        }

        // Stubs.
        for stub in stubs {
            switch stub {
            case .exit(let label, let code):
                assembler.bind(label)
                leave(code)
            case .budget(let label, let n, let code):
                assembler.bind(label)
                assembler.emit(.alu(.add, .b64, slot(HartState.Slot.budget), imm: n))
                leave(code)
            case .indirectMiss(let label, let code):
                assembler.bind(label)
                assembler.emit(.mov(.b64, slot(HartState.Slot.pc), .rax))
                leave(code)
            }
        }
        try assembler.finish()
        let exits = exitJumps.map { entry in
            Translation.Exit(
                target: entry.target, patchOffset: entry.jump.displacementOffset,
                stubOffset: assembler.offset(of: entry.stub)!, linked: nil)
        }
        return Output(instructionStarts: starts, exits: exits)
    }

    // MARK: Operands and exits

    @inline(__always) func slot(_ n: Int) -> X64Memory { .at(Pinned.state, Int32(8 * n)) }
    @inline(__always) func x(_ r: UInt8) -> X64Memory { slot(Int(r)) }
    @inline(__always) func f(_ r: UInt8) -> X64Memory { slot(HartState.Slot.f + Int(r)) }

    /// An exit code: kind, instruction or exit index, translation id.
    func code(_ kind: ExitKind, _ index: Int) -> UInt64 {
        UInt64(kind.rawValue) | UInt64(index) << 8 | UInt64(id) << 32
    }

    /// `movabs rax, code; jmp commonExit`.
    mutating func leave(_ code: UInt64) {
        assembler.emit(.loadConstant(.rax, code))
        assembler.jmp(absolute: HostAddress(commonExit))
    }

    /// A patchable jump (conditional if `condition` is given) out of the block to `target`,
    /// through an exit stub until the engine links it.
    mutating func exit(to target: UInt64, if condition: X64Condition? = nil) {
        let stub = assembler.newLabel()
        let jump = assembler.patchableJump(condition, to: stub)
        stubs.append(.exit(stub, code: code(.chain, exitJumps.count)))
        exitJumps.append((target, jump, stub))
    }

    /// A jump to an out-of-line exit returning `kind` for instruction `k`.
    mutating func exitIf(_ condition: X64Condition, _ kind: ExitKind, _ k: Int) {
        let stub = assembler.newLabel()
        assembler.jcc(condition, to: stub)
        stubs.append(.exit(stub, code: code(kind, k)))
    }

    /// Stores a 64-bit constant into a slot.
    mutating func storeConstant(_ value: UInt64, to destination: X64Memory) {
        if let small = Int32(exactly: Int64(bitPattern: value)) {
            assembler.emit(.mov(.b64, destination, imm: small))
        } else {
            assembler.emit(.loadConstant(.rcx, value))
            assembler.emit(.mov(.b64, destination, .rcx))
        }
    }

    /// Stores rax, sign-extended from 32 bits when `word`, into integer register `rd`.
    mutating func storeResult(_ rd: UInt8, word: Bool = false, from register: HostRegister = .rax) {
        if word { assembler.emit(.movsx(.b64, register, register, from: .b32)) }
        assembler.emit(.mov(.b64, x(rd), register))
    }

    /// Loads the effective address `rs1 + imm` into rax and checks it against the end of the
    /// guest address space (an access past the end leaves through a stub; the interpreter then
    /// reports the fault).
    mutating func address(_ i: Instruction, index k: Int) {
        assembler.emit(.mov(.b64, .rax, x(i.rs1)))
        if i.imm != 0 { assembler.emit(.alu(.add, .b64, .rax, imm: Int32(truncatingIfNeeded: i.imm))) }
        assembler.emit(.alu(.cmp, .b64, .rax, Pinned.limit))
        exitIf(.ae, .boundsFault, k)
    }

    /// The guest memory operand `[r15 + rax]`.
    var guest: X64Memory { .at(Pinned.memory, index: .rax) }

    /// Calls a helper `(state, packed, extra) -> status`; a non-zero status leaves through
    /// a stub and the interpreter re-executes the instruction for its exact trap.
    mutating func callHelper(_ address: UInt, packed: UInt64, extra: UInt64, index k: Int) {
        assembler.emit(.mov(.b64, .rdi, Pinned.state))
        assembler.emit(.loadConstant(.rsi, packed))
        assembler.emit(.loadConstant(.rdx, extra))
        assembler.emit(.loadConstant(.rax, UInt64(address)))
        assembler.emit(.call(.rax))
        assembler.emit(.test(.b64, .rax, .rax))
        exitIf(.ne, .helperFailure, k)
    }

    /// A stub for a jump-cache miss: the target pc is in rax.
    mutating func stubsAppendIndirectMiss(_ label: X64Label) {
        stubs.append(.indirectMiss(label, code: code(.indirect, 0)))
    }

    /// Packs an instruction's fields for a helper: opcode, register numbers, rm, csr number.
    static func pack(_ i: Instruction) -> UInt64 {
        UInt64(i.opcode.rawValue) | UInt64(i.rd) << 8 | UInt64(i.rs1) << 16 | UInt64(i.rs2) << 24
            | UInt64(i.rs3) << 32 | UInt64(i.rm) << 40 | UInt64(UInt16(truncatingIfNeeded: i.imm) & 0xfff) << 48
    }
}
