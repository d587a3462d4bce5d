import RivetLinux

extension VirtualMachine {
    /// The contents of the virtual file at `path` (`Configuration.files`) now: for a writable
    /// file, what the guest (or any process it forked) made of it.
    /// - Parameter path: the file's guest path, as configured.
    /// - Returns: its bytes, or nil if no virtual file has that path.
    public func contentsOfVirtualFile(at path: String) -> [UInt8]? {
        process.filesystem.memoryFile(at: path)?.contents()
    }

    /// The memory files and directories of `files`, checked.
    /// - Throws: `RivetError(.invalidConfiguration)` for a relative or duplicate path, a file
    ///   where another virtual file lies below, or a memfd the host refuses.
    static func memoryFiles(_ files: [VirtualFile]) throws(RivetError) -> ([MemoryFile], [String]) {
        var regular: [MemoryFile] = []
        var directories: [String] = []
        var seen: Set<String> = []
        for file in files {
            guard file.path.hasPrefix("/") else {
                throw RivetError(.invalidConfiguration, "virtual file \(file.path): the path must be absolute")
            }
            let path = Sandbox.normalize(file.path)
            guard seen.insert(path).inserted else {
                throw RivetError(.invalidConfiguration, "virtual file \(file.path): the path is given twice")
            }
            switch file.kind {
            case .regular(let contents):
                guard path != "/" else { throw RivetError(.invalidConfiguration, "virtual file /: / is a directory") }
                do {
                    regular.append(try MemoryFile(path: path, contents: contents, writable: file.isWritable))
                } catch {
                    throw RivetError(.invalidConfiguration, "virtual file \(file.path): the host refused a memfd (errno \(error.errno))")
                }
            case .directory:
                directories.append(path)
            }
        }
        for file in regular {
            let prefix = "/" + file.path.joined(separator: "/") + "/"
            if let below = seen.first(where: { $0.hasPrefix(prefix) }) {
                throw RivetError(.invalidConfiguration, "virtual file \(prefix.dropLast()): \(below) lies below it, so it must be a directory")
            }
        }
        return (regular, directories)
    }
}
