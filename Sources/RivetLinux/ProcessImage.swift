import RivetMachine

/// What a process is besides its memory and registers, frozen for copies (a snapshot): the
/// loaded program, the heap's bounds, signal dispositions and mask, the umask, the auxiliary
/// vector and the working directory. Only a process with one thread and no descriptors but
/// the standard streams can be frozen: threads and open files have host state a copy cannot
/// share.
public struct ProcessImage: Sendable {
    var program: LoadedProgram
    var brkStart: UInt64
    var brkEnd: UInt64
    var actions: [SignalAction]
    var mask: UInt64
    var alternateStack: (base: UInt64, size: UInt64, flags: UInt32)
    var signalTrampoline: UInt64
    var umask: UInt32
    var auxiliaryVector: [UInt8]
    var workingDirectory: String
    /// The program as the guest sees it.
    public var elf: ELFFile { program.elf }
}

extension LinuxProcess {
    /// The process frozen (between runs).
    /// - Throws: a message saying what cannot be copied: more threads, open descriptors.
    public func captureImage() throws(ELFError) -> ProcessImage {
        guard threads.count <= 1 else { throw ELFError("the guest has \(threads.count) threads; only one can be copied") }
        let open = files.descriptors.filter { $0 > 2 }
        guard open.isEmpty else {
            throw ELFError("the guest has open descriptors (\(open.map(String.init).joined(separator: ", "))); only 0-2 can be copied")
        }
        guard let program else { throw ELFError("the guest has no program loaded") }
        return ProcessImage(
            program: program, brkStart: brkStart, brkEnd: brkEnd, actions: signals.actions, mask: signals.mask,
            alternateStack: signals.alternateStack, signalTrampoline: signalTrampoline, umask: umask,
            auxiliaryVector: auxiliaryVector, workingDirectory: filesystem.workingDirectory)
    }

    /// Starts this (fresh) process as `image` was, on `hart`, whose registers the caller sets;
    /// its memory must hold the image's mappings already.
    public func restore(_ image: ProcessImage, hart: HartState) {
        program = image.program
        self.hart = hart
        current.hart = hart
        brkStart = image.brkStart
        brkEnd = image.brkEnd
        signals.actions = image.actions
        signals.mask = image.mask
        signals.alternateStack = image.alternateStack
        signalTrampoline = image.signalTrampoline
        umask = image.umask
        auxiliaryVector = image.auxiliaryVector
        filesystem.workingDirectory = image.workingDirectory
    }
}
