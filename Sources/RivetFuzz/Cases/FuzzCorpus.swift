/// Committed fixture programs the `elf` kind mutates: static ones whose output does not
/// depend on the time or the process (so every tier prints the same), found beside the
/// sources (`Tests/RivetTests/Fixtures/bin`). Empty when the checkout has no fixtures.
package enum FuzzCorpus {
    /// The fixtures used, by file name.
    static let names = [
        "hello_static", "exit_codes", "isa_compressed", "static_pie", "mem_segv", "signal_abort",
        "adv_sigreturn_garbage", "adv_odd_pc", "self_modifying_fence_i",
    ]

    /// The repository's root, from this file's path (Sources/RivetFuzz/Cases/...).
    package static let repositoryRoot: String = {
        var parts = #filePath.split(separator: "/").map(String.init)
        parts.removeLast(4)
        return "/" + parts.joined(separator: "/")
    }()

    /// The fixtures that could be read.
    package static let fixtures: [(name: String, bytes: [UInt8])] = names.compactMap { name in
        guard let bytes = try? HostFiles.read(repositoryRoot + "/Tests/RivetTests/Fixtures/bin/" + name) else { return nil }
        return (name, bytes)
    }
}
