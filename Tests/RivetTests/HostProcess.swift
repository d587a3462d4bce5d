#if canImport(Glibc)
import Glibc
#endif
import Rivet

/// The `rivet` command built beside the tests (`swift test` builds every product).
let rivetCommand: String = {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    let path = String(decoding: buffer[0..<max(0, n)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    var parts = path.split(separator: "/").map(String.init)
    parts.removeLast()
    return "/" + parts.joined(separator: "/") + "/rivet"
}()

/// A host process a test starts and acts on (signals, input), with its output captured.
final class HostProcess {
    let pid: pid_t
    /// Where the test writes the process's standard input.
    private(set) var input: Int32
    private let output: TemporaryFile
    private let errors: TemporaryFile
    private(set) var status: Int32? = nil

    /// Starts `arguments`, with a pipe as standard input. The child starts with every signal at
    /// its default action and none blocked, whatever the test runner does.
    /// With `directory`, the command runs there (through `env -C`).
    init(_ arguments: [String], directory: String? = nil) throws {
        let arguments = directory.map { ["/usr/bin/env", "-C", $0] + arguments } ?? arguments
        output = try TemporaryFile()
        errors = try TemporaryFile()
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw RivetError(.invalidConfiguration, "pipe failed") }
        input = fds[1]
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[0], 0)
        posix_spawn_file_actions_adddup2(&actions, output.fd, 1)
        posix_spawn_file_actions_adddup2(&actions, errors.fd, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, arguments[0], &actions, &attributes, &argv, environ)
        close(fds[0])
        guard spawned == 0 else {
            close(fds[1])
            throw RivetError(.invalidConfiguration, "cannot run \(arguments[0]): error \(spawned)")
        }
        pid = child
    }

    deinit {
        if status == nil {
            kill(pid, SIGKILL)
            _ = wait(timeout: .seconds(10))
        }
        closeInput()
    }

    /// What the process wrote so far.
    var standardOutput: String { output.contents() }
    var standardOutputBytes: [UInt8] { readAllBytes(output.fd) }
    var standardError: String { errors.contents() }

    /// Waits for `text` to appear in the standard output; false if it does not within `timeout`.
    func waitForOutput(_ text: String, timeout: Duration = .seconds(20)) -> Bool {
        let clock = ContinuousClock()
        let end = clock.now + timeout
        while clock.now < end {
            if standardOutput.contains(text) { return true }
            usleep(2000)
        }
        return false
    }

    /// Waits for the process to end; its status as a shell reports it (128 + signal), or nil if
    /// it is still running after `timeout`.
    func wait(timeout: Duration = .seconds(20)) -> Int32? {
        if let status { return status }
        let clock = ContinuousClock()
        let end = clock.now + timeout
        var raw: Int32 = 0
        while clock.now < end {
            let result = waitpid(pid, &raw, WNOHANG)
            if result == pid {
                let signal = raw & 0x7f
                status = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
                return status
            }
            usleep(1000)
        }
        return nil
    }

    /// Ends the standard input: the process reads end of file.
    func closeInput() {
        if input >= 0 { close(input) }
        input = -1
    }

    /// Writes `bytes` to the standard input.
    func send(_ text: String) {
        var bytes = Array(text.utf8)
        _ = write(input, &bytes, bytes.count)
    }
}
