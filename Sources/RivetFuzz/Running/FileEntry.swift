/// One thing a guest left in its scratch directory.
package struct FileEntry: Equatable, Sendable {
    /// What it is.
    package enum FileType: Equatable, Sendable {
        case file, directory, special
        /// A symbolic link, with its target.
        case link(String)
    }

    /// Its path below the scratch directory.
    package var path: String
    /// What it is.
    package var type: FileType
    /// Its size in bytes (regular files; 0 otherwise).
    package var size: Int
    /// Its permission bits (0 for links).
    package var mode: UInt32

    /// An entry for `path`.
    package init(path: String, type: FileType, size: Int, mode: UInt32) {
        self.path = path
        self.type = type
        self.size = size
        self.mode = mode
    }

    /// `d/f  file, 12 bytes, mode 0644`.
    package var description: String {
        let permissions = String(mode, radix: 8)
        switch type {
        case .file: return "\(path)  file, \(size) bytes, mode 0\(permissions)"
        case .directory: return "\(path)/  directory, mode 0\(permissions)"
        case .special: return "\(path)  special file, mode 0\(permissions)"
        case .link(let target): return "\(path) -> \(target)"
        }
    }
}
