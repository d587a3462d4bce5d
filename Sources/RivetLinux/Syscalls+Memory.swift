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
            guard args[0] & 0xfff == 0, args[1] > 0 else { return .einval }
            do {
                try memory.unmap(at: GuestAddress(args[0]), size: GuestAddress(args[1]).pageEnd.rawValue)
                return .value(0)
            } catch {
                return .einval
            }
        case 226:  // mprotect
            guard args[0] & 0xfff == 0 else { return .einval }
            if args[1] == 0 { return .value(0) }
            guard args[2] & ~7 == 0 else { return .einval }
            do {
                try memory.protect(
                    at: GuestAddress(args[0]), size: GuestAddress(args[1]).pageEnd.rawValue,
                    permissions: MemoryPermissions(prot: args[2]))
                return .value(0)
            } catch .notMapped {
                return .value(-Errno.ENOMEM)
            } catch {
                return .einval
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

    /// brk: grows or shrinks the heap; returns the new end, or the old one on failure.
    func brk(_ requested: UInt64) -> UInt64 {
        guard requested >= brkStart else { return brkEnd }
        let oldTop = GuestAddress(brkEnd).pageEnd
        let newTop = GuestAddress(requested).pageEnd
        if newTop > oldTop {
            let size = newTop - oldTop
            guard GuestMemory.contains(oldTop.rawValue, size: size),
                !memory.map.regions.contains(where: { $0.end > oldTop && $0.start < newTop })
            else { return brkEnd }
            do {
                try memory.mapAnonymous(at: oldTop, size: size, permissions: .readWrite, name: "[heap]")
            } catch {
                return brkEnd
            }
        } else if newTop < oldTop {
            try? memory.unmap(at: newTop, size: oldTop - newTop)
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
        let rights = MemoryPermissions(prot: prot)
        let shared = kind != MapFlag.private

        // Choose the address.
        var start: GuestAddress
        if flags & (MapFlag.fixed | MapFlag.fixedNoReplace) != 0 {
            guard hint & 0xfff == 0, GuestMemory.contains(hint, size: size) else { return .einval }
            start = GuestAddress(hint)
            if flags & MapFlag.fixedNoReplace != 0,
                memory.map.regions.contains(where: { $0.end > start && $0.start < start + size })
            {
                return .value(-Errno.EEXIST)
            }
        } else {
            let aligned = GuestAddress(hint).pageStart
            if hint != 0, GuestMemory.contains(aligned.rawValue, size: size), aligned.rawValue >= AddressLayout.mmapBottom,
                !memory.map.regions.contains(where: { $0.end > aligned && $0.start < aligned + size })
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
            switch error {
            case .host(let code): return .value(-Int64(code))
            case .invalidRange: return .einval
            case .outOfMemory, .notMapped: return .value(-Errno.ENOMEM)
            }
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
        // The whole old range must be mapped. It may span several adjacent regions (an earlier
        // in-place growth adds one), where Linux would have merged them into one mapping.
        guard memory.map.isMapped(GuestAddress(old), GuestAddress(old + oldSize)),
            let region = memory.map.region(containing: GuestAddress(old))
        else { return .value(-Errno.EFAULT) }
        if flags & fixed != 0 {
            do {
                try memory.move(from: GuestAddress(old), size: oldSize, to: GuestAddress(target), newSize: newSize)
            } catch {
                return .value(-Errno.ENOMEM)
            }
            return .value(Int64(bitPattern: target))
        }
        if newSize <= oldSize {
            if newSize < oldSize { try? memory.unmap(at: GuestAddress(old + newSize), size: oldSize - newSize) }
            return .value(Int64(bitPattern: old))
        }
        // Grow in place when the pages after the mapping are free.
        let tail = GuestAddress(old + oldSize)
        if GuestMemory.contains(tail.rawValue, size: newSize - oldSize),
            !memory.map.regions.contains(where: { $0.end > tail && $0.start < tail + (newSize - oldSize) })
        {
            do {
                if region.name.hasPrefix("/") || region.shared {
                    // A file or shared mapping cannot grow by adding anonymous pages.
                    throw MappingError.invalidRange
                }
                try memory.mapAnonymous(
                    at: tail, size: newSize - oldSize, permissions: region.permissions, name: region.name)
                return .value(Int64(bitPattern: old))
            } catch {}
        }
        guard flags & mayMove != 0 else { return .value(-Errno.ENOMEM) }
        guard
            let target = memory.map.findFree(
                size: newSize, lowest: GuestAddress(AddressLayout.mmapBottom), highest: GuestAddress(AddressLayout.mmapTop))
        else { return .value(-Errno.ENOMEM) }
        do {
            try memory.move(from: GuestAddress(old), size: oldSize, to: target, newSize: newSize)
        } catch {
            return .value(-Errno.ENOMEM)
        }
        return .value(Int64(bitPattern: target.rawValue))
    }
}
