#if canImport(Glibc)
import Glibc
#endif
import RivetLinux

/// What the program to load is: an ELF file, or a `#!` script whose interpreter is one.
struct ProgramImage {
    /// The ELF file, open.
    var file: ProgramFile
    /// Its host path: what /proc/self/exe names.
    var hostPath: String
    /// argv.
    var arguments: [String]
    /// How errors name it: the program path, followed by "interpreter PATH" for each script.
    var name: String
}

extension VirtualMachine {
    /// The program at `path`, with `arguments` as its argv. A `#!` script becomes its
    /// interpreter (found as the guest would find it: in the grants and the sysroot, never a
    /// host path of its own) with argv `interpreter [argument] path arguments[1...]`, as Linux
    /// runs scripts; interpreters may be scripts too, as deep as `ScriptHeader.maxDepth`.
    /// - Throws: `RivetError` if a file cannot be read, a `#!` line names no interpreter, or an
    ///   interpreter is missing or not executable.
    static func program(
        at path: String, arguments: [String], grants: [RivetLinux.DirectoryGrant], configuration: Configuration
    ) throws(RivetError) -> ProgramImage {
        var image = ProgramImage(file: try openProgramFile(path), hostPath: absolutePath(path), arguments: arguments, name: path)
        guard ScriptHeader.isScript(image.file.head) else { return image }
        let view = Sandbox(
            grants: grants, hostFilesystem: configuration.grantsHostFilesystem,
            workingDirectory: configuration.workingDirectory)
        // What the interpreter is given: the script's path as its caller named it.
        var script = path
        for _ in 1..<ScriptHeader.maxDepth {
            guard let header = ScriptHeader(image.file.head) else {
                throw RivetError(.invalidProgram, "\(image.name): a script whose #! line names no interpreter")
            }
            image.arguments = header.arguments(script: script, rest: image.arguments.dropFirst())
            image.name += ": interpreter \(header.interpreter)"
            guard let found = openGuestFile(header.interpreter, in: view, executable: true) else {
                throw RivetError(
                    .missingInterpreter,
                    "\(image.name) not found" + (configuration.sysroot.map { " in the sysroot \($0) or" } ?? " in")
                        + " the granted directories, or not executable")
            }
            (image.file, image.hostPath) = found
            guard ScriptHeader.isScript(image.file.head) else { return image }
            script = header.interpreter
        }
        throw RivetError(.invalidProgram, "\(path): too many levels of #! interpreters")
    }

    /// A dynamic program's interpreter (PT_INTERP), open, found as the guest would find
    /// the path: resolved in the sandbox (the sysroot and the grants), never through a host path
    /// of its own. Any failure reads the same, so a hostile ELF learns nothing about the host.
    static func openInterpreter(_ path: String, of programPath: String, in filesystem: Sandbox, sysroot: String?)
        throws(RivetError) -> ProgramFile
    {
        guard path.hasPrefix("/"), let found = openGuestFile(path, in: filesystem, executable: false) else {
            throw RivetError(
                .missingInterpreter,
                sysroot.map { "\(programPath): interpreter \(path) not found in the sysroot \($0) or the granted directories" }
                    ?? "\(programPath): dynamically linked (needs \(path)); give a sysroot (--sysroot) holding it")
        }
        return found.file
    }

    /// The regular file at the guest path `path` in `filesystem`, open, and its host path
    /// (relative paths from its working directory); nil if there is none, or it is not
    /// executable when `executable` is asked.
    private static func openGuestFile(_ path: String, in filesystem: Sandbox, executable: Bool)
        -> (file: ProgramFile, hostPath: String)?
    {
        // Whoever asks says what is missing and where it was looked for; the note on paths
        // outside the grants would only say it twice.
        let observer = filesystem.outsideGrantsObserver
        filesystem.outsideGrantsObserver = nil
        defer { if filesystem.outsideGrantsObserver == nil { filesystem.outsideGrantsObserver = observer } }
        guard case .success(let resolution) = filesystem.resolve(path), case .host(let hostPath, _, _) = resolution.target,
            !executable || access(hostPath, X_OK) == 0
        else { return nil }
        let fd = HostFileSystem.open(hostPath, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard let file = try? programFile(fd, hostPath) else { return nil }
        return (file, hostPath)
    }
}
