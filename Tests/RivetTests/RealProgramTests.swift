import Rivet
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The real programs `Benchmarks/build-programs --guest-only busybox xz ninja` builds from
/// Debian's sources, found in `Benchmarks/.cache/programs/riscv64/` (never committed).
enum RealPrograms {
    static let directory = repositoryRoot + "/Benchmarks/.cache/programs/riscv64"
    static let names = ["busybox", "xz", "ninja"]

    /// `RIVET_REQUIRE_PROGRAMS` (set by `.ci/run`, which builds them) makes missing programs or a
    /// missing qemu a failure instead of a reason to skip.
    static let required = getenv("RIVET_REQUIRE_PROGRAMS") != nil

    static func path(_ name: String) -> String { directory + "/" + name }

    static let built = names.allSatisfy { access(path($0), X_OK) == 0 }

    static let shouldRun = required || (built && QemuReference.isAvailable)

    /// Throws, naming what is missing, unless every program and qemu are there.
    static func requirePrograms() throws {
        for name in names where access(path(name), X_OK) != 0 {
            throw RivetError(
                .unreadableProgram,
                "\(path(name)) is missing: build it with `Benchmarks/build-programs --guest-only \(names.joined(separator: " "))`")
        }
        guard QemuReference.isAvailable else {
            throw RivetError(.invalidConfiguration, "qemu-riscv64 is missing (Debian: qemu-user)")
        }
    }
}

/// One run of a real program: its arguments and the files its working directory starts with.
struct RealProgramCase: CustomStringConvertible, Sendable {
    var name: String
    var program: String
    var arguments: [String]
    var files: [String: [UInt8]] = [:]
    var description: String { name }

    /// The shell workload of the benchmarks (busybox sh with pipelines, substitutions, here-docs,
    /// subshells ...), xz compressing with one and two threads, and ninja (C++) in a dry run.
    static let all: [RealProgramCase] = {
        let script = (try? readBytes(repositoryRoot + "/Benchmarks/workloads/shell.sh")) ?? []
        let text = wordText(bytes: 300_000)
        let xz = ["-3", "--block-size=64KiB", "-c", "input.txt"]
        return [
            RealProgramCase(name: "busybox sh shell.sh 2", program: "busybox", arguments: ["sh", "shell.sh", "2"],
                            files: ["shell.sh": script]),
            RealProgramCase(name: "xz -T1", program: "xz", arguments: ["-T1"] + xz, files: ["input.txt": text]),
            RealProgramCase(name: "xz -T2", program: "xz", arguments: ["-T2"] + xz, files: ["input.txt": text]),
            RealProgramCase(name: "ninja -n", program: "ninja", arguments: ["-n", "-f", "build.ninja"],
                            files: ["build.ninja": ninjaManifest(libraries: 12)]),
        ]
    }()

    /// Runs the case under qemu-riscv64 in a fresh directory.
    func runUnderQemu() throws -> RandomRunResult {
        let scratch = try prepare()
        return try QemuReference.run(arguments: [RealPrograms.path(program)] + arguments, directory: scratch.path)
    }

    /// Runs the case with the `rivet` command (the shell forks, which the test runner must not)
    /// in a fresh directory, its working directory and only grant.
    func runUnderRivet(_ tier: String) throws -> (output: [UInt8], errors: String, status: Int32?) {
        try RealProgramCase.run(tier: tier, RealPrograms.path(program), arguments, in: try prepare())
    }

    static func run(tier: String, _ program: String, _ arguments: [String], in scratch: ScratchDirectory) throws
        -> (output: [UInt8], errors: String, status: Int32?)
    {
        let process = try HostProcess(
            [rivetCommand, "run", "--tier", tier, "--timeout", "300", "--", program] + arguments,
            directory: scratch.path)
        let status = process.wait(timeout: .seconds(330))
        return (process.standardOutputBytes, process.standardError, status)
    }

    private func prepare() throws -> ScratchDirectory {
        let scratch = try ScratchDirectory()
        for (name, bytes) in files { try writeBytes(bytes, to: scratch.path + "/" + name) }
        return scratch
    }

    /// `bytes` of words and numbers from a fixed generator: text that compresses as text does.
    static func wordText(bytes: Int) -> [UInt8] {
        let words = ["the", "of", "guest", "register", "branch", "compile", "cache", "block", "decode", "host",
                     "thread", "signal", "memory", "page", "fault", "and", "to", "in", "a", "is"]
        var state: UInt64 = 1
        func next(_ bound: UInt64) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % bound)
        }
        var text: [UInt8] = []
        text.reserveCapacity(bytes + 32)
        while text.count < bytes {
            text += Array(words[next(UInt64(words.count))].utf8)
            if next(9) == 0 { text += Array(" \(next(100_000))".utf8) }
            text.append(next(12) == 0 ? 0x0a : 0x20)
        }
        return Array(text.prefix(bytes))
    }

    /// A build.ninja for a dry run: `libraries` libraries of 10 to 29 generated sources, each
    /// compiled with a header as an implicit input and a generated header as an order-only one,
    /// then archived, and programs linking some of them.
    static func ninjaManifest(libraries: Int) -> [UInt8] {
        var state: UInt64 = 3
        func next(_ bound: UInt64) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % bound)
        }
        var lines = [
            "cflags = -O2 -Iinclude", "rule gen", "  command = generate $seed > $out", "  description = GEN $out",
            "rule cc", "  command = cc $cflags $extra -c $in -o $out", "  description = CC $out",
            "rule ar", "  command = ar crs $out $in", "rule link", "  command = cc -o $out $in",
            "build include/config.h: gen", "  seed = 7",
        ]
        var archives: [String] = []
        for library in 0..<libraries {
            var objects: [String] = []
            let count = 10 + next(20)
            for k in 0..<count {
                lines += ["build src/l\(library)/f\(k).c: gen", "  seed = \(next(1000))"]
                lines.append("build obj/l\(library)/f\(k).o: cc src/l\(library)/f\(k).c | src/l\(library)/f\(next(UInt64(k + 1))).h || include/config.h")
                if next(3) == 0 { lines.append("  extra = -DK=\(k)") }
                objects.append("obj/l\(library)/f\(k).o")
            }
            for k in 0..<count { lines.append("build src/l\(library)/f\(k).h: gen") }
            archives.append("lib/l\(library).a")
            lines.append("build lib/l\(library).a: ar " + objects.joined(separator: " "))
        }
        var programs: [String] = []
        for p in 0..<max(1, libraries / 3) {
            lines += ["build src/app\(p).c: gen", "build obj/app\(p).o: cc src/app\(p).c || include/config.h"]
            let used = Set((0...next(4)).map { _ in archives[next(UInt64(archives.count))] }).sorted()
            lines.append("build bin/app\(p): link obj/app\(p).o " + used.joined(separator: " "))
            programs.append("bin/app\(p)")
        }
        lines += ["build all: phony " + programs.joined(separator: " "), "default all"]
        return Array((lines.joined(separator: "\n") + "\n").utf8)
    }
}

/// Real programs from Debian's sources under every tier, against qemu-riscv64: busybox's ash
/// running a script (forks, pipes, wait4, execve of itself), xz with threads, ninja (C++,
/// libstdc++). Skipped when the programs are not built, unless `RIVET_REQUIRE_PROGRAMS` is set.
@Suite(.enabled(if: RealPrograms.shouldRun, "the real programs are not built (Benchmarks/build-programs --guest-only busybox xz ninja)"))
struct RealProgramTests {
    static let tiers = ["interp", "baseline", "auto"]

    @Test(arguments: RealProgramCase.all, tiers)
    func realProgramMatchesQemu(_ program: RealProgramCase, _ tier: String) throws {
        try RealPrograms.requirePrograms()
        let reference = try program.runUnderQemu()
        try #require(reference.status == 0, "under qemu: \(reference.detail)")
        let result = try program.runUnderRivet(tier)
        #expect(result.status == 0, "stderr: \(result.errors)")
        let difference = firstDifference(result.output, reference.output)
        #expect(difference == nil, "\(difference ?? ""); stderr: \(result.errors)")
    }

    /// xz decompresses, with one and two threads, what it compressed under qemu (blocks of
    /// 64 KiB, so the threads share them) back to the original text.
    @Test(arguments: ["-T1", "-T2"], tiers)
    func xzRoundTrip(_ threads: String, _ tier: String) throws {
        try RealPrograms.requirePrograms()
        let text = RealProgramCase.wordText(bytes: 300_000)
        let scratch = try ScratchDirectory()
        try writeBytes(text, to: scratch.path + "/input.txt")
        let compressed = try QemuReference.run(
            arguments: [RealPrograms.path("xz"), "-3", "-T2", "--block-size=64KiB", "-c", "input.txt"],
            directory: scratch.path)
        try #require(compressed.status == 0)
        try writeBytes(compressed.output, to: scratch.path + "/input.txt.xz")
        let result = try RealProgramCase.run(
            tier: tier, RealPrograms.path("xz"), ["-d", threads, "-c", "input.txt.xz"], in: scratch)
        #expect(result.status == 0, "stderr: \(result.errors)")
        let difference = firstDifference(result.output, text)
        #expect(difference == nil, "xz -d did not give the text back: \(difference ?? "")")
    }

    /// busybox's ash runs an applet that is neither NOFORK nor NOEXEC (`rev`) by executing
    /// /proc/self/exe: under Rivet that is the guest program again, never a host binary.
    /// (qemu-user cannot do it without binfmt_misc, so the expectation is written here.)
    @Test(arguments: tiers)
    func busyboxExecutesItselfForAnApplet(_ tier: String) throws {
        try RealPrograms.requirePrograms()
        let scratch = try ScratchDirectory()
        let result = try RealProgramCase.run(
            tier: tier, RealPrograms.path("busybox"),
            ["sh", "-c", "PATH=/nonexistent; echo guest | rev; x=$(echo abc | rev | rev); echo \"$x\"; exit 5"],
            in: scratch)
        #expect(String(decoding: result.output, as: UTF8.self) == "tseug\nabc\n", "stderr: \(result.errors)")
        #expect(result.status == 5)
    }

    /// busybox ash's `read` builtin polls its descriptor (ppoll on riscv64) before each byte:
    /// `while read` loops.
    @Test(arguments: tiers)
    func busyboxReadBuiltin(_ tier: String) throws {
        try RealPrograms.requirePrograms()
        let script = try readBytes(repositoryRoot + "/Benchmarks/workloads/shell.sh")
        let program = RealProgramCase(
            name: "read", program: "busybox", arguments: ["sh", "shell.sh", "1", "read"], files: ["shell.sh": script])
        let reference = try program.runUnderQemu()
        try #require(reference.status == 0)
        let result = try program.runUnderRivet(tier)
        let difference = firstDifference(result.output, reference.output)
        #expect(difference == nil, "\(difference ?? ""); stderr: \(result.errors)")
    }
}

/// Where the output `got` first differs from `expected`, with the lines there; nil if equal.
func firstDifference(_ got: [UInt8], _ expected: [UInt8]) -> String? {
    guard got != expected else { return nil }
    let index = (0..<min(got.count, expected.count)).first { got[$0] != expected[$0] } ?? min(got.count, expected.count)
    func line(_ bytes: [UInt8]) -> String {
        let start = bytes[..<min(index, bytes.count)].lastIndex(of: 0x0a).map { $0 + 1 } ?? 0
        let end = bytes[min(index, bytes.count)...].firstIndex(of: 0x0a) ?? bytes.count
        return String(decoding: bytes[start..<min(end, start + 200)], as: UTF8.self)
    }
    return "\(got.count) bytes, expected \(expected.count); first difference at byte \(index): "
        + "\"\(line(got))\" instead of \"\(line(expected))\""
}
