/// The `#!` line of a script, as Linux's binfmt_script reads it: the interpreter (the first word
/// after `#!`) and at most one argument (the rest of the line, spaces around it dropped). A
/// script runs as `interpreter [argument] script arguments...`. Both the program Rivet starts
/// and the guest's execve run scripts so.
public struct ScriptHeader: Equatable, Sendable {
    /// The interpreter's path, as written (a guest path).
    public var interpreter: String
    /// The optional argument.
    public var argument: String?

    /// The most files one exec reads: scripts and, at the end, the ELF program. Linux too gives
    /// up after a few interpreters of interpreters (ELOOP).
    public static let maxDepth = 5

    /// Whether `bytes` start with `#!`: they are a script, whether or not the line is usable.
    public static func isScript(_ bytes: [UInt8]) -> Bool { bytes.starts(with: [0x23, 0x21]) }

    /// Reads the `#!` line of `bytes`; nil if they are not a script or the line names no
    /// interpreter (Linux: ENOEXEC).
    public init?(_ bytes: [UInt8]) {
        guard Self.isScript(bytes) else { return nil }
        let line = String(decoding: bytes.dropFirst(2).prefix { $0 != 0x0a }, as: UTF8.self)
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        let words = line.split(maxSplits: 1, whereSeparator: blank).map { word in
            String(word.drop(while: blank).reversed().drop(while: blank).reversed())
        }
        guard let interpreter = words.first, !interpreter.isEmpty else { return nil }
        self.interpreter = interpreter
        argument = words.count > 1 && !words[1].isEmpty ? words[1] : nil
    }

    /// The interpreter's argv for running `script` (the path as the caller named it), whose
    /// own argv[0] is dropped: interpreter, [argument,] script, `rest`.
    public func arguments(script: String, rest: some Sequence<String>) -> [String] {
        [interpreter] + (argument.map { [$0] } ?? []) + [script] + rest
    }
}
