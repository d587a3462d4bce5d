/// What a fuzz case generates.
package enum FuzzKind: String, CaseIterable, Sendable {
    /// A random instruction stream (`RandomInstructionGenerator`), often with bits flipped in a
    /// few of its words so that odd and illegal encodings appear.
    case instructions
    /// A random control-flow program (`RandomControlFlowBuilder`): branches, jumps, loops, calls
    /// and returns, dispatches through a computed `jalr`.
    case control
    /// A mutated ELF file: a fixture or a generated program with corrupted headers, segments or
    /// code.
    case elf
    /// A program making many syscalls with random arguments (`SyscallProgramGenerator`).
    case syscalls

    /// Parses a comma-separated list of kind names (`instructions,control`).
    /// - Returns: the kinds in the order given, without repeats; nil if a name is unknown or the
    ///   list is empty.
    package static func list(_ text: String) -> [FuzzKind]? {
        var kinds: [FuzzKind] = []
        for name in text.split(separator: ",") {
            guard let kind = FuzzKind(rawValue: String(name.filter { $0 != " " })) else { return nil }
            if !kinds.contains(kind) { kinds.append(kind) }
        }
        return kinds.isEmpty ? nil : kinds
    }
}
