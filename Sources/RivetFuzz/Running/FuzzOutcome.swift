import Rivet

/// What one run of a guest program under one tier did: how it ended, what it printed, what it
/// left in its scratch directory. Two tiers running the same program must produce equal
/// outcomes (`differences`), save for the fields that only explain (`detail`, `diagnostics`).
package struct FuzzOutcome: Equatable, Sendable {
    /// How a run ended.
    package enum Ending: Equatable, Sendable {
        /// `VirtualMachine.init` refused the program (the loader's message).
        case rejected(String)
        /// The guest exited with this status.
        case exited(Int32)
        /// The guest was killed by this signal.
        case signaled(Int32)
        /// The instruction limit stopped it.
        case instructionLimit
        /// The wall-time limit stopped it.
        case timeLimit

        /// One word for the kind of ending: `exited`, `signaled`, `limit`, `timeout`, `rejected`.
        package var category: String {
            switch self {
            case .rejected: "rejected"
            case .exited: "exited"
            case .signaled: "signaled"
            case .instructionLimit: "limit"
            case .timeLimit: "timeout"
            }
        }

        /// `exited with status 0`, `killed by signal 11`, `rejected: ...`.
        package var description: String {
            switch self {
            case .rejected(let message): "rejected: \(message)"
            case .exited(let status): "exited with status \(status)"
            case .signaled(let signal): "killed by signal \(signal)"
            case .instructionLimit: "stopped at the instruction limit"
            case .timeLimit: "stopped at the wall-time limit"
            }
        }
    }

    /// How the run ended.
    package var ending: Ending
    /// Guest instructions executed.
    package var instructions: UInt64
    /// Of those, the ones executed in compiled code; not compared.
    package var compiledInstructions: UInt64 = 0
    /// The first bytes the guest wrote to standard output (up to `FuzzRunner.outputKept`).
    package var output: [UInt8]
    /// Bytes written to standard output in all.
    package var outputSize: Int
    /// A hash of what was written to standard output (`HostFiles.readAll`).
    package var outputHash: UInt64
    /// What the guest left in its scratch directory.
    package var files: [FileEntry]
    /// Why it stopped, in Rivet's words (the fault and pc of a signal); not compared.
    package var detail: String = ""
    /// The start of what Rivet and the guest wrote to standard error; not compared.
    package var diagnostics: String = ""

    /// An outcome; `detail` and `diagnostics` are empty.
    package init(
        ending: Ending, instructions: UInt64 = 0, output: [UInt8] = [], outputSize: Int? = nil, outputHash: UInt64? = nil,
        files: [FileEntry] = []
    ) {
        self.ending = ending
        self.instructions = instructions
        self.output = output
        self.outputSize = outputSize ?? output.count
        self.outputHash = outputHash ?? Self.hash(output)
        self.files = files
    }

    /// The hash `HostFiles.readAll` computes of a file holding `bytes` (one extent at 0).
    package static func hash(_ bytes: [UInt8]) -> UInt64 {
        let start = (0..<8).reduce(UInt64(0xcbf2_9ce4_8422_2325)) { hash, _ in hash &* 0x100_0000_01b3 }
        return bytes.isEmpty ? 0xcbf2_9ce4_8422_2325 : bytes.reduce(start) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }

    /// How `other` differs from this outcome, a line per difference; empty when they agree.
    /// Compared: the ending (status, signal number, which limit), the instruction count when
    /// both stopped at the instruction limit, standard output (size and hash), and the files left.
    package func differences(from other: FuzzOutcome, names: (String, String)) -> [String] {
        var lines: [String] = []
        let (mine, theirs) = names
        if ending != other.ending {
            lines.append("ending: \(mine) \(ending.description), \(theirs) \(other.ending.description)")
        } else if ending == .instructionLimit, instructions != other.instructions {
            lines.append("instructions at the limit: \(mine) \(instructions), \(theirs) \(other.instructions)")
        }
        if outputSize != other.outputSize || outputHash != other.outputHash {
            var line = "standard output: \(mine) \(outputSize) bytes, \(theirs) \(other.outputSize) bytes"
            let mismatch = output.indices.first { $0 < other.output.count && output[$0] != other.output[$0] }
            if let at = mismatch ?? firstDifference(other) {
                line += ", first difference at byte \(at)"
            }
            lines.append(line)
        }
        if files != other.files {
            let onlyMine = files.filter { !other.files.contains($0) }.map(\.description)
            let onlyTheirs = other.files.filter { !files.contains($0) }.map(\.description)
            lines.append(
                "files: only under \(mine): [\(onlyMine.joined(separator: "; "))], "
                    + "only under \(theirs): [\(onlyTheirs.joined(separator: "; "))]")
        }
        return lines
    }

    /// Where the kept outputs stop agreeing because one is shorter, if they agree before.
    private func firstDifference(_ other: FuzzOutcome) -> Int? {
        let common = min(output.count, other.output.count)
        return output.count != other.output.count ? common : nil
    }
}
