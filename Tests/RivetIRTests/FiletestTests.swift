import Foundation
import RivetIR
import Testing

/// One filetest: the passes named on its `; test:` line, its input function, and the expected
/// output after `; expect:`.
struct Filetest: CustomStringConvertible, Sendable {
    var path: String
    var passes: [Pass]
    var input: String
    var expected: String
    var description: String { path.split(separator: "/").suffix(2).joined(separator: "/") }

    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Filetests")

    static func all() -> [Filetest] {
        let fm = FileManager.default
        guard let enumerator = fm.enumerator(atPath: folder.path) else { return [] }
        var tests: [Filetest] = []
        for case let relative as String in enumerator where relative.hasSuffix(".rvir") {
            let path = folder.appendingPathComponent(relative).path
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            tests.append(parse(path: path, text: text))
        }
        return tests.sorted { $0.path < $1.path }
    }

    static func parse(path: String, text: String) -> Filetest {
        var passes: [Pass] = []
        var input = text, expected = ""
        if let first = text.split(separator: "\n", maxSplits: 1).first, first.hasPrefix("; test:") {
            passes = first.dropFirst("; test:".count).split(separator: ",").compactMap {
                Pass(rawValue: $0.trimmingCharacters(in: .whitespaces))
            }
        }
        if let r = text.range(of: "\n; expect:\n") {
            input = String(text[..<r.lowerBound]) + "\n"
            expected = String(text[r.upperBound...])
        }
        return Filetest(path: path, passes: passes, input: input, expected: expected)
    }
}

@Suite struct FiletestTests {
    @Test(arguments: Filetest.all())
    func filetest(_ test: Filetest) throws {
        #expect(!test.passes.isEmpty, "no '; test:' line")
        let input = try Parser.parse(test.input)
        try Verifier.verify(input)
        var output = input
        try PassManager(verifyEachPass: true).run(test.passes, on: &output)
        let printed = output.text
        // The printed output parses back to the same text.
        #expect(try Parser.parse(printed).text == printed)
        if ProcessInfo.processInfo.environment["RIVET_BLESS"] == "1" {
            if printed != test.expected {
                try (test.input + "; expect:\n" + printed).write(toFile: test.path, atomically: true, encoding: .utf8)
            }
        } else {
            #expect(printed == test.expected, "\(test) differs:\n\(lineDiff(test.expected, printed))")
        }
        if let difference = semanticDifference(input, output, seeds: 0..<16) {
            Issue.record("\(test): the passes changed what the function does: \(difference)\n\(printed)")
        }
    }

    @Test func everyPassHasFiletests() {
        let tests = Filetest.all()
        for pass in Pass.allCases {
            let count = tests.filter { $0.path.contains("/\(pass.rawValue)/") }.count
            #expect(count >= 3, "\(pass.rawValue) has \(count) filetests")
        }
    }
}

/// A line-by-line comparison: `-` expected, `+` actual, for the lines that differ.
func lineDiff(_ expected: String, _ actual: String) -> String {
    let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
    var out: [String] = []
    for i in 0..<max(e.count, a.count) {
        let x = i < e.count ? String(e[i]) : nil, y = i < a.count ? String(a[i]) : nil
        if x != y {
            if let x { out.append("line \(i + 1) - \(x)") }
            if let y { out.append("line \(i + 1) + \(y)") }
        }
    }
    return out.joined(separator: "\n")
}
