import Rivet
import Synchronization
import Testing

/// README.md's embedding examples: compiled verbatim (`ReadmeExamples`), and the first one run.
@Suite struct ReadmeExampleTests {
    /// The ```swift blocks of README.md's "## Embedding" section, in order.
    static func readmeBlocks() throws -> [String] {
        let readme = String(decoding: try readBytes(repositoryRoot + "/README.md"), as: UTF8.self)
        let lines = readme.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(of: "## Embedding") else { return [] }
        let section = lines[(start + 1)...].prefix { !$0.hasPrefix("## ") }
        var blocks: [String] = []
        var block: [String]? = nil
        for line in section {
            if block == nil, line == "```swift" {
                block = []
            } else if let lines = block, line == "```" {
                blocks.append(lines.map { $0 + "\n" }.joined())
                block = nil
            } else {
                block?.append(line)
            }
        }
        return blocks
    }

    /// The copies in `ReadmeExamples` (this file), between their `// README block N` and
    /// `// end of README block N` lines, without the function body's indentation.
    static func copies() throws -> [String] {
        let source = String(decoding: try readBytes(#filePath), as: UTF8.self)
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var copies: [String] = []
        var n = 1
        while let begin = lines.firstIndex(of: "        // README block \(n)"),
            let end = lines.firstIndex(of: "        // end of README block \(n)")
        {
            var copy = ""
            for line in lines[(begin + 1)..<end] {
                guard line.isEmpty || line.hasPrefix("        ") else {
                    Issue.record("line of copy \(n) not indented as the function body: \(line)")
                    return []
                }
                copy += line.dropFirst(line.isEmpty ? 0 : 8) + "\n"
            }
            copies.append(copy)
            n += 1
        }
        return copies
    }

    /// README.md's examples are the copies the test build compiles, character for character
    /// (block 1's `import Rivet` is this file's own).
    @Test func readmeExamplesAreTheCompiledCopies() throws {
        var blocks = try Self.readmeBlocks()
        let copies = try Self.copies()
        #expect(blocks.count == 3, "README.md's Embedding section has \(blocks.count) swift blocks")
        #expect(copies.count == 3, "ReadmeExamples has \(copies.count) copies")
        guard blocks.count == copies.count, !blocks.isEmpty else { return }
        let preamble = "import Rivet\n\n"
        #expect(blocks[0].hasPrefix(preamble), "README block 1 starts with import Rivet and an empty line")
        blocks[0] = String(blocks[0].dropFirst(preamble.count))
        for (n, (block, copy)) in zip(blocks, copies).enumerated() {
            #expect(block == copy, "README block \(n + 1) differs from its copy in ReadmeExampleTests.swift")
        }
    }

    @Test func embeddingExampleRuns() throws {
        var configuration = Configuration()  // grants nothing, host environment not passed
        configuration.arguments = ["--verbose"]
        configuration.directories = [DirectoryGrant(hostPath: repositoryRoot, guestPath: "/data", isWritable: false)]
        configuration.limits = Limits(instructions: 10_000_000_000, memoryBytes: 1 << 30, wallTime: .seconds(5))
        let out = try TemporaryFile()
        configuration.standardOutput = .fileDescriptor(out.fd)
        let vm = try VirtualMachine(programPath: repositoryRoot + "/Examples/hello", configuration: configuration)
        let reason = vm.run()
        switch reason {
        case .exited(let status): #expect(status == 0)
        case .signaled, .instructionLimitReached, .timeLimitReached, .paused, .cancelled: Issue.record("unexpected \(reason)")
        }
        #expect(out.contents().contains("argument 1: --verbose"))
        #expect(vm.statistics.summary.contains("guest instructions"))
    }
}

/// README.md's embedding examples, verbatim between the `README block` lines (which
/// `readmeExamplesAreTheCompiledCopies` compares with README.md): compiled, never run (they
/// name files no test has). What they use without defining comes before.
enum ReadmeExamples {
    static func block1() throws {
        // README block 1
        var configuration = Configuration()            // grants nothing, host environment not passed
        configuration.arguments = ["--verbose"]
        configuration.directories = [DirectoryGrant(hostPath: "/srv/data", guestPath: "/data", isWritable: false)]
        configuration.limits = Limits(instructions: 10_000_000_000, memoryBytes: 1 << 30, wallTime: .seconds(5))
        let vm = try VirtualMachine(programPath: "plugin.elf", configuration: configuration)
        switch vm.run() {
        case .exited(let status): print("exited with \(status)")
        case .signaled(let signal, let detail): print("killed by signal \(signal): \(detail ?? "")")
        case .instructionLimitReached, .timeLimitReached: print("stopped at a limit")    // resumable: run() goes on
        case .paused, .cancelled: print("stopped by the host")
        }
        print(vm.statistics.summary)
        // end of README block 1
    }

    /// Where block 2's standard error goes.
    final class Log: Sendable {
        let bytes = Mutex<[UInt8]>([])
        func append(_ more: [UInt8]) { bytes.withLock { $0 += more } }
    }

    static func block2() throws {
        var configuration = Configuration()
        let requestBody = AsyncStream<[UInt8]> { $0.finish() }
        let log = Log()
        let settings = "{}"
        // README block 2
        let output = OutputBuffer()
        configuration.standardInput = .stream(requestBody)      // AsyncSequence of [UInt8], String or UInt8
        configuration.standardOutput = .buffer(output)          // or .handler { bytes in ... }, .discarded
        configuration.standardError = .handler { bytes in log.append(bytes) }
        configuration.files = [
            .file("/etc/config.json", text: settings),           // read-only unless isWritable
            .file("/out/result.txt", contents: [], isWritable: true),
            .directory("/tmp"),
        ]
        let vm = try VirtualMachine(programPath: "plugin.elf", configuration: configuration)
        _ = vm.run()                                            // every byte written is in `output` now
        let result = vm.contentsOfVirtualFile(at: "/out/result.txt")
        // end of README block 2
        _ = result
    }

    static func block3() async throws {
        let vm = try VirtualMachine(programPath: "plugin.elf", configuration: Configuration())
        // README block 3
        vm.register(syscall: 0x10001) { call in                  // ecall with a7 = 0x10001: arguments a0...a5
            .value(call.argument(0) &+ call.argument(1))         // or .failure(errno:), .pause(returning:), .exit
        }
        vm.register(syscall: 0x10002) { _ in .pause(returning: 0) }   // where the guest waits for requests
        if vm.run() == .paused, let scratch = vm.address(ofSymbol: "scratch") {
            try vm.writeMemory(Array("request\0".utf8), at: scratch)
            let answer = try vm.call("handle", arguments: [scratch], instructions: 1_000_000)
            print("the guest answered \(answer)")                  // then vm.run() resumes its wait
        }
        let control = vm.control                                 // Sendable
        Task { try await Task.sleep(for: .seconds(1)); control.pause() }   // or control.cancel()
        let reason = await vm.runAsync()                         // the awaiting task's cancellation cancels it
        // end of README block 3
        _ = reason
    }
}
