/// The guest programs the demo runs: static riscv64 Linux executables committed in the
/// repository, found from this file's place in it (Examples/Sandbox/Sources/sandbox-demo).
enum Guests {
    /// The repository's root directory.
    static let repository: String = {
        var path = #filePath
        for _ in 0..<5 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path
    }()

    /// Prints a greeting and its arguments (`Examples/hello.c`); exits with its first argument.
    static let hello = repository + "/Examples/hello"
    /// A tight loop of 1.4 billion instructions, then one line (`Examples/loop.c`).
    static let loop = repository + "/Examples/loop"
    /// Host functions 0x10000 (log), 0x10001 (add), 0x10002 (wait for the host) and functions
    /// the host calls: add, sum, fib, bump, greet, host_calls (`Tests/RivetTests/Fixtures/embed_calls.c`).
    static let embedCalls = repository + "/Tests/RivetTests/Fixtures/bin/embed_calls"
    /// `cat` copies standard input to standard output; `files` reads and writes files under
    /// /data (`Tests/RivetTests/Fixtures/io_virtual.c`).
    static let ioVirtual = repository + "/Tests/RivetTests/Fixtures/bin/io_virtual"
}
