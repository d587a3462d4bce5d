/// Names where a worker crashed, from the Swift runtime's backtrace on its standard error, so
/// that one bug met a thousand times is reported once: the failure message and the first
/// frame outside the runtime (`arithmetic overflow in LinuxProcess.prctl(_:) at
/// Syscalls+Process.swift:175`).
package enum CrashSignature {
    /// The signature of a crash whose standard error ends with `errorOutput`; `why` (the
    /// signal or the hang) when there is no backtrace.
    package static func of(errorOutput: String, why: String) -> String {
        let lines = errorOutput.split(separator: "\n").map(String.init)
        guard let crashed = lines.lastIndex(where: { $0.hasSuffix("crashed:") }) else { return why }
        var failure = ""
        let failureLine = lines[..<crashed].last { $0.contains("*** Swift runtime failure:") || $0.contains("Fatal error") }
        if let line = failureLine {
            failure = replacing(replacing(line, "*** Swift runtime failure: ", ""), " ***", "")
        }
        for line in lines[(crashed + 1)...] where !line.contains("[system]") {
            guard let at = line.firstRange(of: " at /"), let plus = line.firstRange(of: " + ") else { continue }
            // "  1   0x000055ee1f6c6e2c LinuxProcess.prctl(_:) + 860 in rivet-fuzz at /path/File.swift:175:30"
            let words = line[..<plus.lowerBound].split(separator: " ", omittingEmptySubsequences: true)
            let function = words.drop { !$0.hasPrefix("0x") }.dropFirst().joined(separator: " ")
            let path = line[at.upperBound...].split(separator: "/").last.map(String.init) ?? ""
            let location = path.split(separator: ":").prefix(2).joined(separator: ":")
            let site = "\(function) at \(location)"
            return failure.isEmpty ? site : "\(failure) in \(site)"
        }
        return failure.isEmpty ? why : failure
    }

    /// `text` with every `target` replaced by `replacement`.
    private static func replacing(_ text: String, _ target: String, _ replacement: String) -> String {
        text.split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
