import CRivetHost
import RivetISA

#if canImport(Glibc)
import Glibc
#endif

// Checked access from Swift (syscalls, the loader, slow paths), instruction fetch, and the
// host faults that host code survives.
extension GuestMemory {
    /// Whether a mapping covers `address`, whatever its permissions (a PROT_NONE page is
    /// mapped: a fault there is SEGV_ACCERR, not SEGV_MAPERR). For faults, not hot paths.
    public func isMapped(_ address: UInt64) -> Bool {
        address < Self.addressSpaceSize && codeLock.withLock { map.region(containing: GuestAddress(address)) != nil }
    }

    // MARK: Checked access

    /// The permissions of the page holding `address`.
    @inline(__always)
    public func permissions(at address: UInt64) -> MemoryPermissions {
        guard address < Self.addressSpaceSize else { return .none }
        return MemoryPermissions(rawValue: pagePermissions[Int(address >> Self.pageShift)])
    }

    /// Checks that every byte of `[address, address + size)` allows `access`, changing nothing.
    /// - Throws: `GuestFault` naming the first byte that does not allow it.
    public func check(_ address: UInt64, size: Int, access: AccessKind) throws(GuestFault) {
        guard size > 0 else { return }
        let needed: MemoryPermissions =
            switch access {
            case .read: .read
            case .write: .write
            case .execute: .execute
            }
        guard Self.contains(address, size: UInt64(size)) else {
            let bad = address < Self.addressSpaceSize ? Self.addressSpaceSize : address
            throw GuestFault(address: GuestAddress(bad), access: access, mapped: false)
        }
        var page = address & ~(Self.pageSize - 1)
        let end = address + UInt64(size)
        while page < end {
            let p = MemoryPermissions(rawValue: pagePermissions[Int(page >> Self.pageShift)])
            guard p.contains(needed) else {
                throw GuestFault(
                    address: GuestAddress(max(page, address)), access: access, mapped: isMapped(max(page, address)),
                    pastFileEnd: p.contains(.pastFileEnd))
            }
            page += Self.pageSize
        }
    }

    /// Checks that every byte of `[address, address + size)` allows `access`, and returns the
    /// host memory behind it. A write into pages holding code invalidates that code first.
    /// - Throws: `GuestFault` naming the first byte that does not allow the access.
    public func hostBuffer(at address: UInt64, size: Int, access: AccessKind) throws(GuestFault)
        -> UnsafeMutableRawBufferPointer
    {
        if size == 0 { return UnsafeMutableRawBufferPointer(start: host(0), count: 0) }
        try check(address, size: size, access: access)
        let end = address + UInt64(size)
        if access == .write, hasCodeMark(address, end) {
            codeLock.withLock {
                if containsCode(GuestAddress(address), GuestAddress(end)) {
                    notifyCodeChanged(GuestAddress(address), GuestAddress(end))
                }
            }
        }
        return UnsafeMutableRawBufferPointer(start: host(address), count: size)
    }

    /// Whether a page of `[address, end)` has its `code` mark (read without the lock: a mark
    /// set concurrently is another hart's code, which the guest must synchronise with fence.i).
    @inline(__always)
    func hasCodeMark(_ address: UInt64, _ end: UInt64) -> Bool {
        var page = address >> Self.pageShift
        let last = (end - 1) >> Self.pageShift
        while page <= last {
            if pagePermissions[Int(page)] & MemoryPermissions.code.rawValue != 0 { return true }
            page += 1
        }
        return false
    }

    /// Copies `size` guest bytes at `address` out.
    public func read(at address: UInt64, size: Int) throws(GuestFault) -> [UInt8] {
        let buffer = try hostBuffer(at: address, size: size, access: .read)
        return [UInt8](buffer)
    }

    /// Copies `bytes` into guest memory at `address`.
    public func write(_ bytes: some Collection<UInt8>, at address: UInt64) throws(GuestFault) {
        let buffer = try hostBuffer(at: address, size: bytes.count, access: .write)
        buffer.copyBytes(from: bytes)
    }

    /// Reads a value of a fixed-width integer type, little-endian.
    public func load<T: FixedWidthInteger>(_: T.Type, at address: UInt64) throws(GuestFault) -> T {
        let buffer = try hostBuffer(at: address, size: MemoryLayout<T>.size, access: .read)
        return T(littleEndian: buffer.loadUnaligned(as: T.self))
    }

    /// Writes a value of a fixed-width integer type, little-endian.
    public func store<T: FixedWidthInteger>(_ value: T, at address: UInt64) throws(GuestFault) {
        let buffer = try hostBuffer(at: address, size: MemoryLayout<T>.size, access: .write)
        buffer.storeBytes(of: value.littleEndian, as: T.self)
    }

    /// Reads a NUL-terminated string of at most `maxLength` bytes (without the NUL).
    /// - Throws: `GuestFault` if the string runs into memory the guest cannot read.
    public func readCString(at address: UInt64, maxLength: Int = 4096) throws(GuestFault) -> [UInt8] {
        var bytes: [UInt8] = []
        var cursor = address
        while bytes.count < maxLength {
            let pageRemaining = Int(Self.pageSize - (cursor & (Self.pageSize - 1)))
            let chunk = try hostBuffer(at: cursor, size: min(pageRemaining, maxLength - bytes.count), access: .read)
            if let nul = chunk.firstIndex(of: 0) {
                bytes.append(contentsOf: chunk[..<nul])
                return bytes
            }
            bytes.append(contentsOf: chunk)
            cursor += UInt64(chunk.count)
        }
        return bytes
    }

    // MARK: Instruction fetch

    /// The 16-bit instruction parcel at `pc`, if the guest may execute it there (nil for an odd
    /// or unexecutable pc). Reads an execute-only page, which the host keeps unreadable, through
    /// `/proc/self/mem`.
    public func fetchParcel(at pc: UInt64) -> UInt16? {
        guard pc & 1 == 0, pc < Self.addressSpaceSize else { return nil }
        let rights = MemoryPermissions(rawValue: pagePermissions[Int(pc >> Self.pageShift)])
        guard rights.contains(.execute) else { return nil }
        if rights.contains(.read) { return UInt16(littleEndian: host(pc).loadUnaligned(as: UInt16.self)) }
        var value: UInt16 = 0
        guard Self.readHidden(host(pc), into: &value, count: 2) else { return nil }
        return UInt16(littleEndian: value)
    }

    /// Fetches and decodes the instruction at `pc`, or the fault of fetching it (an execute
    /// fault at the parcel that cannot be fetched).
    public func instruction(at pc: UInt64) -> Result<Instruction, GuestFault> {
        func fault(_ address: UInt64) -> GuestFault {
            GuestFault(address: GuestAddress(address), access: .execute, mapped: isMapped(address))
        }
        guard let low = fetchParcel(at: pc) else { return .failure(fault(pc)) }
        if Decoder.length(ofParcel: low) == 2 { return .success(Decoder.decodeCompressed(low)) }
        guard let high = fetchParcel(at: pc &+ 2) else { return .failure(fault(pc &+ 2)) }
        return .success(Decoder.decode(low: low, high: high))
    }

    /// The guest code bytes `[pc, pc + count)` (executable; execute-only pages included), or nil.
    public func readCode(at pc: UInt64, count: Int) -> [UInt8]? {
        guard count > 0, Self.contains(pc, size: UInt64(count)) else { return count == 0 ? [] : nil }
        var bytes = [UInt8](repeating: 0, count: count)
        var cursor = pc
        let end = pc + UInt64(count)
        while cursor < end {
            let rights = MemoryPermissions(rawValue: pagePermissions[Int(cursor >> Self.pageShift)])
            guard rights.contains(.execute) else { return nil }
            let chunk = Int(min(end, (cursor | (Self.pageSize - 1)) + 1) - cursor)
            let at = Int(cursor - pc)
            let ok = bytes.withUnsafeMutableBytes { raw -> Bool in
                if rights.contains(.read) {
                    raw.baseAddress!.advanced(by: at).copyMemory(from: host(cursor), byteCount: chunk)
                    return true
                }
                return Self.readHidden(host(cursor), into: raw.baseAddress!.advanced(by: at), count: chunk)
            }
            guard ok else { return nil }
            cursor += UInt64(chunk)
        }
        return bytes
    }

    /// Rivet's own /proc/self/mem (the guest can never open it), to read pages the host keeps
    /// unreadable: the kernel reads them on our behalf whatever their protection.
    private static let selfMemory: Int32 = open("/proc/self/mem", O_RDONLY | O_CLOEXEC)

    /// Reads `count` bytes of host memory at `address` whatever its protection.
    private static func readHidden(_ address: UnsafeRawPointer, into buffer: UnsafeMutableRawPointer, count: Int) -> Bool {
        guard selfMemory >= 0 else { return false }
        let offset = off_t(Int(bitPattern: address))
        return pread(selfMemory, buffer, count, offset) == count
    }

    // MARK: Host faults

    /// Turns the host faults this thread's host code survived on guest memory (see
    /// `rivet_register_guest_space`) into the guest's fault: restores each touched page's
    /// protection and clears the hart's record.
    /// - Returns: the first fault, or nil if there was none.
    public func settleHostFaults(_ slots: UnsafeMutablePointer<UInt64>) -> GuestFault? {
        guard slots[HartState.Slot.attention] & RIVET_ATTENTION_HOST_FAULT != 0 else { return nil }
        let signal = slots[HartState.Slot.hostFaultSignal]
        let address = slots[HartState.Slot.hostFaultAddress]
        rivet_clear_attention(slots, RIVET_ATTENTION_HOST_FAULT)
        var pages = [UInt](repeating: 0, count: 64)
        let count = pages.withUnsafeMutableBufferPointer { rivet_take_host_fault_pages($0.baseAddress, Int32($0.count)) }
        // A write the guest may make, refused by the host: another hart write-protected the
        // page for code it just translated from it, after this thread's checks passed. The
        // store went through (the handler opened the page); it changed code, not a fault.
        let racedWithTranslation =
            count >= 0 && signal & 0xff == UInt64(SIGSEGV) && signal & 0x100 != 0
            && permissions(at: address).contains(.write)
        codeLock.withLock {
            if racedWithTranslation {
                let page = GuestAddress(address).pageStart
                notifyCodeChanged(page, page + Self.pageSize)
            }
            for hostPage in pages.prefix(max(0, Int(count))) {
                restoreHostProtection(page: UInt64(hostPage - UInt(bitPattern: base)) >> Self.pageShift)
            }
        }
        if racedWithTranslation { return nil }
        let pastFileEnd = signal & 0xff == UInt64(SIGBUS)
        return GuestFault(
            address: GuestAddress(address), access: signal & 0x100 != 0 ? .write : .read,
            mapped: isMapped(address) || pastFileEnd, pastFileEnd: pastFileEnd,
            lostTrack: count < 0)
    }

    /// Gives a page the host state its guest state calls for, after the fault handler opened it.
    private func restoreHostProtection(page: UInt64) {
        let address = page << Self.pageShift
        guard address < Self.addressSpaceSize + Self.guardSize else { return }
        if address < Self.addressSpaceSize, map.region(containing: GuestAddress(address)) != nil {
            // Mapped: its rights (none for a page past the end of its file, now zero-filled).
            mprotect(host(address), Int(Self.pageSize), hostProtection(page: page))
        } else {
            // Unmapped: back to a fresh page of the reservation.
            _ = reserveIfPossible(GuestAddress(address), GuestAddress(address + Self.pageSize))
        }
    }
}
