#if canImport(Glibc)
import Glibc
#endif
import Rivet
import RivetFuzz

/// How a run of a generated program ended.
struct RandomRunResult {
    var status: Int32
    var output: [UInt8]
    var detail: String
    /// Guest instructions the optimizing tier ran.
    var optimizedInstructions: UInt64 = 0
}

extension RandomInstructionProgram {
    /// Runs the program at `path` under Rivet with `tier`, capturing its stdout as bytes.
    static func runUnderRivet(
        _ path: String, tier: ExecutionTier, threshold: UInt32 = 50, configure: (inout Configuration) -> Void = { _ in }
    ) throws -> RandomRunResult {
        let out = try TemporaryFile()
        let err = try TemporaryFile()
        let input = open("/dev/null", O_RDONLY)
        defer { close(input) }
        var configuration = Configuration()
        configuration.standardInput = .fileDescriptor(input)
        configuration.standardOutput = .fileDescriptor(out.fd)
        configuration.standardError = .fileDescriptor(err.fd)
        configuration.limits.instructions = 1_000_000
        configuration.limits.wallTime = .seconds(60)
        configuration.tier = tier
        configuration.tierUpThreshold = threshold
        configure(&configuration)
        let vm = try VirtualMachine(programPath: path, configuration: configuration)
        let reason = vm.run()
        var detail = "\(reason)"
        let errors = err.contents()
        if !errors.isEmpty { detail += "; stderr: " + errors }
        let optimized = vm.statistics.tiers.first { $0.name == "opt" }?.instructions ?? 0
        return RandomRunResult(
            status: reason.shellStatus, output: readAllBytes(out.fd), detail: detail, optimizedInstructions: optimized)
    }
}

/// The whole contents of the host file `fd`, from offset 0.
func readAllBytes(_ fd: Int32) -> [UInt8] {
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    var offset: off_t = 0
    while true {
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
        if n <= 0 { break }
        bytes += buffer[0..<n]
        offset += off_t(n)
    }
    return bytes
}

/// qemu-riscv64, the outside reference, when it is installed (`RIVET_QEMU` names another
/// binary).
enum QemuReference {
    static let command: String = {
        if let name = getenv("RIVET_QEMU") { return String(cString: name) }
        return "qemu-riscv64"
    }()

    static let isAvailable: Bool = {
        guard let result = try? run([command, "-version"]) else { return false }
        return result.status == 0
    }()

    /// Runs the guest program at `path` under qemu-user, capturing its stdout.
    static func run(program path: String) throws -> RandomRunResult {
        try run([command, path])
    }

    /// Runs qemu-user with `arguments` (options, program, its arguments) in `directory`.
    static func run(arguments: [String], directory: String) throws -> RandomRunResult {
        // Through bash (dash cannot close descriptors above 9), which enters the directory for the child alone (the test process runs
        // tests in parallel, so it must not change its own working directory) and closes the
        // descriptors the test process left open, which the guest would otherwise see.
        let script = """
            cd "$0" || exit 125
            for fd in /proc/self/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-"; done
            exec "$@"
            """
        return try run(["/bin/bash", "-c", script, directory, command] + arguments)
    }

    private static func run(_ arguments: [String]) throws -> RandomRunResult {
        // Through env, which searches PATH; standard input is at its end at once.
        let process = try HostProcess(["/usr/bin/env"] + arguments)
        process.closeInput()
        guard let status = process.wait(timeout: .seconds(120)) else {
            throw RivetError(.invalidConfiguration, "\(arguments[0]) did not finish in 2 minutes")
        }
        return RandomRunResult(status: status, output: process.standardOutputBytes, detail: "status \(status)")
    }
}
