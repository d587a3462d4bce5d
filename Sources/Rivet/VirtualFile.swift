/// A file or directory the guest sees at a guest path although no host directory holds it:
/// the embedder supplies it from memory (`Configuration.files`).
///
/// ```swift
/// configuration.files = [
///     .file("/etc/motd", text: "hello\n"),
///     .file("/work/result.json", contents: [], isWritable: true),
///     .directory("/tmp"),
/// ]
/// ...
/// let result = vm.contentsOfVirtualFile(at: "/work/result.json")
/// ```
///
/// Virtual files take precedence over the granted directories at their paths, and the
/// directories above them exist for the guest (listing them, and whatever a grant has there).
/// The guest opens, reads, seeks, maps, stats and polls a virtual file as a regular file
/// (changing a writable one through its descriptors: write, O_TRUNC, ftruncate, a shared
/// mapping); it cannot create, remove, rename, chmod or truncate one by path, nor create
/// anything in a directory that exists only virtually, nor execute one. `..` and symbolic links are resolved in the guest's view, so no path leads from
/// a virtual file to a host file.
public struct VirtualFile: Equatable, Sendable {
    /// What is at the path.
    public enum Kind: Equatable, Sendable {
        /// A regular file with these initial contents.
        case regular(contents: [UInt8])
        /// A directory (read-only), listing what lies below it.
        case directory
    }

    /// The absolute guest path (normalized: `.`, `..` and repeated slashes are applied as text).
    public var path: String
    /// A file or a directory.
    public var kind: Kind
    /// Whether the guest may write, truncate and extend the file (never a directory). The host
    /// reads the result with `VirtualMachine.contentsOfVirtualFile(at:)`.
    public var isWritable: Bool

    /// A file at `path` holding `contents`, read-only unless `isWritable`.
    public static func file(_ path: String, contents: some Sequence<UInt8>, isWritable: Bool = false) -> VirtualFile {
        VirtualFile(path: path, kind: .regular(contents: Array(contents)), isWritable: isWritable)
    }

    /// A file at `path` holding `text` in UTF-8, read-only unless `isWritable`.
    public static func file(_ path: String, text: String, isWritable: Bool = false) -> VirtualFile {
        .file(path, contents: Array(text.utf8), isWritable: isWritable)
    }

    /// A (read-only) directory at `path`, which exists even with nothing below it.
    public static func directory(_ path: String) -> VirtualFile {
        VirtualFile(path: path, kind: .directory, isWritable: false)
    }
}
