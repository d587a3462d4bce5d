import Rivet
import Synchronization

/// Standard input from bytes, standard output and error into buffers: no host descriptor
/// involved. The guest is `cat`, copying its input to its output.
func standardStreamsDemo() throws {
    print("== standard input from bytes, output into buffers")
    let input = Array("line one\nline two\n".utf8) + (0..<1000).map { UInt8(truncatingIfNeeded: $0) }
    let output = OutputBuffer()
    let errors = OutputBuffer()
    var configuration = Configuration()
    configuration.arguments = ["cat"]
    configuration.standardInput = .bytes(input)  // or .text("..."), .stream(someAsyncSequence)
    configuration.standardOutput = .buffer(output)
    configuration.standardError = .buffer(errors)
    let vm = try VirtualMachine(programPath: Guests.ioVirtual, configuration: configuration)
    let reason = vm.run()
    // When `run()` returns, every byte the guest wrote is in the buffers.
    Checks.expect(reason, .exited(0), "cat's exit")
    Checks.expect(output.bytes, input, "what cat copied")
    Checks.expect(errors.text, "cat: \(input.count) bytes\n", "cat's standard error")
    print("  cat copied \(output.bytes.count) bytes; it said \"\(errors.text.dropLast())\" on standard error")
}

/// Files served from memory: the guest reads one the host supplies and writes one the host
/// reads back, and finds nothing else (no host directory is granted).
func virtualFilesDemo() throws {
    print("== virtual files")
    let motd = "Served from the host's memory\n"
    let output = OutputBuffer()
    var configuration = Configuration()
    configuration.arguments = ["files"]
    configuration.standardOutput = .buffer(output)
    // Rivet's own notes (here: the first path refused for lying outside the grants) go to
    // standard error unless the embedder takes them.
    let notes = Mutex<[String]>([])
    configuration.diagnostics = { note in notes.withLock { $0.append(note) } }
    configuration.files = [
        .file("/data/motd", text: motd),  // read-only
        .file("/data/out.txt", contents: [], isWritable: true),
        .directory("/data/sub"),
    ]
    let vm = try VirtualMachine(programPath: Guests.ioVirtual, configuration: configuration)
    Checks.expect(vm.run(), .exited(0), "the files guest's exit")
    // The guest printed what it read and the results of its other attempts, one a line.
    let lines = output.text.split(separator: "\n").map(String.init)
    Checks.expect(lines.contains("read: \(motd.dropLast())"), "the guest read /data/motd")
    Checks.expect(lines.contains("open O_RDWR: EROFS"), "the guest cannot write /data/motd")
    Checks.expect(lines.contains("open /etc/passwd: ENOENT"), "the guest sees no host file")
    // What it wrote into the writable file, read back by the host.
    let written = vm.contentsOfVirtualFile(at: "/data/out.txt").map { String(decoding: $0, as: UTF8.self) }
    Checks.expect(written, "written by the guest\nand appended\n", "/data/out.txt after the run")
    for line in lines where line.hasPrefix("read:") || line.hasPrefix("open /etc/passwd") || line.hasPrefix("open O_RDWR") {
        print("  guest: \(line)")
    }
    print("  host: /data/out.txt holds \(String(reflecting: written ?? ""))")
    let said = notes.withLock { $0 }
    Checks.expect(said.contains { $0.contains("/etc/passwd is outside the directories granted") }, "Rivet's note on /etc/passwd")
    for note in said { print("  diagnostics: \(note.split(separator: "\n").first ?? "")") }
}
