#if canImport(Glibc)
import Glibc
#endif
import RivetMachine

/// mmap flag and protection bits (asm-generic values, shared by riscv64 and x86-64).
enum MapFlag {
    static let shared: UInt64 = 0x01
    static let `private`: UInt64 = 0x02
    static let sharedValidate: UInt64 = 0x03
    static let fixed: UInt64 = 0x10
    static let anonymous: UInt64 = 0x20
    static let fixedNoReplace: UInt64 = 0x10_0000
}

extension MemoryPermissions {
    /// Rights from a `PROT_*` mask.
    init(prot: UInt64) {
        self = []
        if prot & 1 != 0 { insert(.read) }
        if prot & 2 != 0 { insert(.write) }
        if prot & 4 != 0 { insert(.execute) }
    }
}

extension LinuxProcess {
    func memorySyscall(_ number: Int, _ args: SyscallArguments) -> SyscallResult? {
        switch number {
        case 214: return .value(Int64(bitPattern: brk(args[0])))
        case 222: return mmap(args)
        case 215:  // munmap
            guard args[0] & 0xfff == 0, args[1] > 0, GuestMemory.contains(args[0], size: args[1]) else { return .einval }
            do {
                try memory.unmap(at: GuestAddress(args[0]), size: GuestAddress(args[1]).pageEnd.rawValue)
                return .value(0)
            } catch {
                return Self.mappingFailure(error)
            }
        case 226:  // mprotect
            guard args[0] & 0xfff == 0 else { return .einval }
            if args[1] == 0 { return .value(0) }
            guard args[2] & ~7 == 0 else { return .einval }
            guard GuestMemory.contains(args[0], size: args[1]) else { return .value(-Errno.ENOMEM) }
            do {
                try memory.protect(
                    at: GuestAddress(args[0]), size: GuestAddress(args[1]).pageEnd.rawValue,
                    permissions: MemoryPermissions(prot: args[2]))
                return .value(0)
            } catch {
                return Self.mappingFailure(error)
            }
        case 216: return mremap(args)
        case 233:  // madvise
            guard args[0] & 0xfff == 0 else { return .einval }
            let size = GuestAddress(args[1]).pageEnd.rawValue
            guard GuestMemory.contains(args[0], size: size) else { return .value(-Errno.ENOMEM) }
            // MADV_DONTNEED drops the pages: private anonymous memory reads back as zeros, as on
            // Linux, because the host mapping behaves the same way.
            if args[2] == 4, size > 0 {
                guard memory.map.isMapped(GuestAddress(args[0]), GuestAddress(args[0] + size)) else {
                    return .value(-Errno.ENOMEM)
                }
                Glibc.madvise(memory.host(args[0]), Int(size), MADV_DONTNEED)
            }
            return .value(0)
        case 227, 228, 229, 230, 231, 232:  // msync, mlock, munlock, mlockall, munlockall, mincore
            if number == 232 { return .value(-Errno.ENOSYS) }
            return .value(0)
        default:
            return nil
        }
    }

    /// The errno of a mapping error (mprotect's ENOMEM for an unmapped range).
    static func mappingFailure(_ error: MappingError) -> SyscallResult {
        switch error {
        case .invalidRange: .einval
        case .outOfMemory, .notMapped: .value(-Errno.ENOMEM)
        case .accessDenied: .value(-Errno.EACCES)
        case .host(let code): .value(-Int64(code))
        }
    }

    /// brk: grows or shrinks the heap; returns the new end, or the old one on failure. A break
    /// below the heap's start or beyond the address space (brk(-1)) changes nothing.
    func brk(_ requested: UInt64) -> UInt64 {
        guard requested >= brkStart, requested <= GuestMemory.addressSpaceSize else { return brkEnd }
        let oldTop = GuestAddress(brkEnd).pageEnd
        let newTop = GuestAddress(requested).pageEnd
        if newTop > oldTop {
            let size = newTop - oldTop
            guard GuestMemory.contains(oldTop.rawValue, size: size), !memory.map.overlaps(oldTop, newTop)
            else { return brkEnd }
            do {
                try memory.mapAnonymous(at: oldTop, size: size, permissions: .readWrite, name: "[heap]")
            } catch {
                return brkEnd
            }
        } else if newTop < oldTop {
            do { try memory.unmap(at: newTop, size: oldTop - newTop) } catch { return brkEnd }
        }
        brkEnd = requested
        return brkEnd
    }

    private func mmap(_ args: SyscallArguments) -> SyscallResult {
        let hint = args[0]
        let prot = args[2]
        let flags = args[3]
        let fd = args.int(4)
        let offset = args[5]
        guard args[1] > 0, args[1] <= GuestMemory.addressSpaceSize else {
            return .value(args[1] == 0 ? -Errno.EINVAL : -Errno.ENOMEM)
        }
        let size = GuestAddress(args[1]).pageEnd.rawValue
        let kind = flags & 3
        guard kind == MapFlag.shared || kind == MapFlag.private || kind == MapFlag.sharedValidate else {
            return .einval
        }
        guard offset & 0xfff == 0 else { return .einval }
        // Linux: EOVERFLOW when the mapping would pass the largest file offset.
        guard offset <= UInt64(Int64.max) - size else { return .value(-Errno.EOVERFLOW) }
        let rights = MemoryPermissions(prot: prot)
        let shared = kind != MapFlag.private

        // Choose the address.
        var start: GuestAddress
        if flags & (MapFlag.fixed | MapFlag.fixedNoReplace) != 0 {
            guard hint & 0xfff == 0, GuestMemory.contains(hint, size: size) else { return .einval }
            start = GuestAddress(hint)
            if flags & MapFlag.fixedNoReplace != 0, memory.map.overlaps(start, start + size) {
                return .value(-Errno.EEXIST)
            }
        } else {
            let aligned = GuestAddress(hint).pageStart
            if hint != 0, GuestMemory.contains(aligned.rawValue, size: size), aligned.rawValue >= AddressLayout.mmapBottom,
                !memory.map.overlaps(aligned, aligned + size)
            {
                start = aligned
            } else if let found = memory.map.findFree(
                size: size, lowest: GuestAddress(AddressLayout.mmapBottom), highest: GuestAddress(AddressLayout.mmapTop))
            {
                start = found
            } else {
                return .value(-Errno.ENOMEM)
            }
        }

        do {
            if flags & MapFlag.anonymous != 0 {
                try memory.mapAnonymous(at: start, size: size, permissions: rights, shared: shared)
            } else {
                guard let file = files[fd] else { return .ebadf }
                guard let host = file.hostDescriptor else { return .value(-Errno.ENODEV) }
                try memory.mapFile(
                    at: start, size: size, permissions: rights, fd: host, offset: offset, shared: shared,
                    name: file.guestPath)
            }
        } catch {
            return Self.mappingFailure(error)
        }
        return .value(Int64(bitPattern: start.rawValue))
    }

    private func mremap(_ args: SyscallArguments) -> SyscallResult {
        let old = args[0]
        let oldSize = GuestAddress(args[1]).pageEnd.rawValue
        let newSize = GuestAddress(args[2]).pageEnd.rawValue
        let flags = args[3]
        let mayMove: UInt64 = 1
        let fixed: UInt64 = 2
        guard old & 0xfff == 0, newSize > 0, flags & ~3 == 0, GuestMemory.contains(old, size: oldSize) else {
            return .einval
        }
        // MREMAP_FIXED needs MREMAP_MAYMOVE and a target clear of the source.
        let target = args[4]
        if flags & fixed != 0 {
            guard flags & mayMove != 0, target & 0xfff == 0, GuestMemory.contains(target, size: newSize),
                target + newSize <= old || old + oldSize <= target
            else { return .einval }
        }
        // The whole old range must be one mapping. Rivet keeps the pieces of an earlier
        // in-place growth apart where Linux would have merged them; `move` and `grow` accept
        // pieces that continue one another.
        guard memory.map.isMapped(GuestAddress(old), GuestAddress(old + oldSize)) else { return .value(-Errno.EFAULT) }
        func result(_ body: () throws(MappingError) -> UInt64) -> SyscallResult {
            do { return .value(Int64(bitPattern: try body())) } catch {
                return error == .notMapped ? .value(-Errno.EFAULT) : Self.mappingFailure(error)
            }
        }
        if flags & fixed != 0 {
            return result { () throws(MappingError) in
                try memory.move(from: GuestAddress(old), size: oldSize, to: GuestAddress(target), newSize: newSize)
                return target
            }
        }
        if newSize <= oldSize {
            if newSize < oldSize {
                do { try memory.unmap(at: GuestAddress(old &+ newSize), size: oldSize - newSize) } catch {
                    return Self.mappingFailure(error)
                }
            }
            return .value(Int64(bitPattern: old))
        }
        // Grow in place when the pages after the mapping are free.
        let tail = GuestAddress(old + oldSize)
        if GuestMemory.contains(tail.rawValue, size: newSize - oldSize), !memory.map.overlaps(tail, tail + (newSize - oldSize)) {
            do {
                try memory.grow(mappingFrom: GuestAddress(old), size: oldSize, by: newSize - oldSize)
                return .value(Int64(bitPattern: old))
            } catch .notMapped {
                return .value(-Errno.EFAULT)
            } catch {
                // Fall through to moving, if allowed.
            }
        }
        guard flags & mayMove != 0 else { return .value(-Errno.ENOMEM) }
        guard
            let target = memory.map.findFree(
                size: newSize, lowest: GuestAddress(AddressLayout.mmapBottom), highest: GuestAddress(AddressLayout.mmapTop))
        else { return .value(-Errno.ENOMEM) }
        return result { () throws(MappingError) in
            try memory.move(from: GuestAddress(old), size: oldSize, to: target, newSize: newSize)
            return target.rawValue
        }
    }
}
