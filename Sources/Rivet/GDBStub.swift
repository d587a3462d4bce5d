#if canImport(Glibc)
import Glibc
#endif
import RivetMachine

/// Why a guest thread stopped, as gdb is told.
package enum GDBStop: Equatable {
    /// Before the first instruction (the answer to `?` at connection).
    case initial
    /// A single step finished.
    case step
    /// The thread reached one of gdb's breakpoints (before executing it).
    case breakpoint
    /// The thread's next instruction accesses memory one of gdb's watchpoints covers (it has
    /// not executed: RISC-V gdb steps over it itself, then compares the values).
    case watchpoint(GDBWatchpoint.Kind, address: UInt64)
    /// gdb asked the running guest to stop (0x03).
    case interrupt
    /// The guest got a synchronous signal (a fault, an ebreak): reported before delivery.
    case signal(Int32)

    /// The Linux signal number the stop reply carries.
    var signal: Int32 {
        switch self {
        case .initial, .step, .breakpoint, .watchpoint: 5  // SIGTRAP
        case .interrupt: 2  // SIGINT
        case .signal(let number): number
        }
    }
}

/// What gdb wants one thread to do when the guest resumes.
package enum GDBThreadAction: Equatable {
    /// Run on, delivering `signal` first if given.
    case resume(signal: Int32?)
    /// Execute one instruction, delivering `signal` first if given.
    case step(signal: Int32?)
}

/// How gdb resumes the guest: an action for some threads, one for the others (nil: they stay
/// stopped, as `vCont` asks of threads it does not name).
package struct GDBResumption: Equatable {
    package var actions: [Int64: GDBThreadAction] = [:]
    package var others: GDBThreadAction? = nil

    /// What thread `tid` does; nil if it stays stopped.
    package func action(for tid: Int64) -> GDBThreadAction? { actions[tid] ?? others }
}

/// What gdb wants once it has looked at the stopped guest.
package enum GDBResume: Equatable {
    /// Resume threads as `GDBResumption` says.
    case resume(GDBResumption)
    /// End the guest (`k`).
    case kill
    /// gdb left (`D`, or it closed the connection): the guest runs on without it.
    case detach
}

/// A file gdb opened with `vFile:open`: made-up contents, or a host descriptor (read-only, of a
/// file the guest itself may read).
package enum GDBFile {
    case contents([UInt8])
    case host(Int32)
}

/// A `vFile` failure: a positive Linux errno (the numbers gdb's File-I/O uses are the same for
/// every error Rivet reports).
package struct GDBFileError: Error, Equatable {
    package var errno: Int64
    package init(_ errno: Int64) { self.errno = errno }
}

/// What the stub shows gdb of the stopped guest: its threads' registers, its memory and the
/// files it sees. Only asked while no guest thread runs.
package protocol GDBTarget: AnyObject {
    /// The guest's process id (gdb's `info proc` and `/proc/PID/...` name it).
    var processID: Int64 { get }
    /// The ids of the guest's threads, the first thread's (the process id) first.
    var threadIDs: [Int64] { get }
    /// The hart of thread `tid`, if it exists.
    func hart(ofThread tid: Int64) -> HartState?
    /// The guest's memory.
    var memory: GuestMemory { get }
    /// The auxiliary vector the guest started with (`qXfer:auxv:read`).
    var auxiliaryVector: [UInt8] { get }
    /// The guest path of the running executable (`qXfer:exec-file:read`).
    var executablePath: String { get }
    /// Opens `path` read-only as the guest would see it (`/proc/PID/maps` is the guest's map).
    func openFile(_ path: String) -> Result<GDBFile, GDBFileError>
    /// The target of the symlink `path` as the guest sees it.
    func readLink(_ path: String) -> Result<String, GDBFileError>
}

/// A GDB remote stub on a TCP port of 127.0.0.1: it waits for gdb, and while the guest is
/// stopped serves gdb's packets (threads, registers, memory, breakpoints, watchpoints, the
/// guest's files) until gdb resumes it. Breakpoints and watchpoints are addresses Rivet checks
/// before each instruction (guest code is never patched); see `VirtualMachine+Debugger.swift`
/// for how the guest runs under it.
package final class GDBStub {
    /// The port it listens on.
    package let port: UInt16
    private var listener: Int32
    private var connection: Int32 = -1
    private var reader = GDBPacketReader()
    private var acknowledges = true
    private var lastSent: [UInt8] = []
    /// The last stop and the thread it happened to (gdb's `?`).
    private var lastStop = GDBStop.initial
    private var stoppedThread: Int64 = 0
    /// Whether gdb speaks the multiprocess extensions: thread ids are then `pPID.TID`.
    private var multiprocess = false
    /// The threads `Hg` (registers) and `Hc` (the old `c` and `s`) chose; nil: the stopped one
    /// (for `Hc`: every thread).
    private var generalThread: Int64? = nil
    private var continueThread: Int64? = nil
    /// The files gdb has open (`vFile:open`), by the descriptor it was given.
    var files: [Int64: GDBFile] = [:]
    var nextFile: Int64 = 1
    /// gdb's breakpoints (`Z0`/`Z1`): a thread stops before executing any of these pcs.
    package private(set) var breakpoints: Set<UInt64> = []
    /// gdb's watchpoints (`Z2`...`Z4`): a thread stops before an instruction that accesses them.
    package private(set) var watchpoints: [GDBWatchpoint] = []
    /// Whether gdb is connected and has not detached.
    package private(set) var isAttached = false

    /// Listens on 127.0.0.1:`port` (0: a port the host picks).
    /// - Throws: `RivetError` if the port cannot be bound.
    package init(port: UInt16) throws(RivetError) {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw RivetError(.debuggerUnavailable, "gdb stub: socket: \(String(cString: strerror(errno)))") }
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 1) == 0 else {
            let message = String(cString: strerror(errno))
            close(listener)
            throw RivetError(.debuggerUnavailable, "gdb stub: cannot listen on 127.0.0.1:\(port): \(message)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        self.listener = listener
        self.port = UInt16(bigEndian: address.sin_port)
    }

    deinit { closeAll() }

    /// Waits for gdb to connect (once); false if accepting failed.
    package func waitForClient() -> Bool {
        while true {
            let fd = accept(listener, nil, nil)
            if fd >= 0 {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                connection = fd
                var yes: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
                close(listener)
                listener = -1
                isAttached = true
                return true
            }
            if errno != EINTR { return false }
        }
    }

    /// Closes every descriptor (in a forked child, which must not talk to the parent's gdb).
    package func closeAll() {
        if listener >= 0 { close(listener) }
        if connection >= 0 { close(connection) }
        listener = -1
        connection = -1
        isAttached = false
        closeFiles()
    }

    /// Whether a thread must stop before executing the instruction at `pc`.
    @inline(__always)
    package func isBreakpoint(_ pc: UInt64) -> Bool { isAttached && breakpoints.contains(pc) }

    /// Whether threads must check each instruction: gdb has breakpoints or watchpoints.
    package var checksEachInstruction: Bool { isAttached && !(breakpoints.isEmpty && watchpoints.isEmpty) }

    /// The first watchpoint `access` triggers, and the address gdb is told.
    package func watchpoint(hitBy access: GuestAccess) -> (GDBWatchpoint, address: UInt64)? {
        for watchpoint in watchpoints {
            if let address = watchpoint.hit(by: access) { return (watchpoint, address) }
        }
        return nil
    }

    // MARK: Serving

    /// Tells gdb why thread `thread` stopped (unless it is the initial stop, which gdb asks
    /// about with `?`) and answers its packets until it resumes the guest. Every guest thread
    /// must be stopped meanwhile.
    /// - Parameters:
    ///   - abandoned: asked when a wait is interrupted: true if the guest is ending, so that
    ///     the stub stops waiting for gdb.
    /// - Returns: what gdb wants; `.detach` if it left; every thread resumes if the guest is
    ///   ending.
    package func serve(_ stop: GDBStop, thread: Int64, target: some GDBTarget, abandoned: () -> Bool) -> GDBResume {
        guard isAttached else { return .detach }
        lastStop = stop
        stoppedThread = thread
        generalThread = nil
        continueThread = nil
        if stop != .initial { send(stopReply(stop, thread: thread, target: target)) }
        while true {
            guard let packet = receivePacket(abandoned: abandoned) else {
                // The guest is ending: gdb hears of the exit (`exited`) once it has.
                if abandoned() { return .resume(GDBResumption(others: .resume(signal: nil))) }
                closeAll()
                return .detach
            }
            if let resume = handle(packet, target: target) { return resume }
        }
    }

    /// Tells gdb the guest ended (`W` with its status, `X` with the signal that killed it) and
    /// closes the connection.
    package func exited(_ reason: ExitReason) {
        guard isAttached else { return closeAll() }
        switch reason {
        case .exited(let status): send("W" + String(hexByte(UInt8(truncatingIfNeeded: status))))
        case .signaled(let signal, _): send("X" + hexByte(UInt8(truncatingIfNeeded: signal)))
        case .instructionLimitReached, .timeLimitReached, .paused, .cancelled: send("X09")  // ended from outside, as by SIGKILL
        }
        closeAll()
    }

    /// Whether gdb asked the running guest to stop (0x03) since the last look; never blocks.
    /// Called by one thread at a time (holding the process's lock).
    package func interruptRequested() -> Bool {
        guard isAttached else { return false }
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = recv(connection, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        if n == 0 {
            closeAll()
            return false
        }
        guard n > 0 else { return false }
        reader.feed(buffer[0..<n])
        var interrupted = false
        while let event = reader.next() {
            if event == .interrupt { interrupted = true }  // packets while running are not expected
        }
        return interrupted
    }

    /// The stop reply: `T05thread:p1f4.1f4;swbreak:;` and the like.
    func stopReply(_ stop: GDBStop, thread: Int64, target: some GDBTarget) -> String {
        var reply = "T" + hexByte(UInt8(truncatingIfNeeded: stop.signal))
        if let hart = target.hart(ofThread: thread) { reply += "20:" + GDBPacket.hexLittleEndian(hart.pc, size: 8) + ";" }
        reply += "thread:" + threadID(thread, target) + ";"
        switch stop {
        case .breakpoint: reply += "swbreak:;"
        case .watchpoint(let kind, let address): reply += kind.stopField + ":" + String(address, radix: 16) + ";"
        case .initial, .step, .interrupt, .signal: break
        }
        return reply
    }

    /// A thread id as gdb reads it: `pPID.TID` (multiprocess) or `TID`, in hex.
    private func threadID(_ tid: Int64, _ target: some GDBTarget) -> String {
        let thread = String(UInt64(bitPattern: tid), radix: 16)
        return multiprocess ? "p" + String(UInt64(bitPattern: target.processID), radix: 16) + "." + thread : thread
    }

    /// Which threads a thread id names: `-1` (or `pPID`, `pPID.-1`) all, `0` any, else one.
    private enum ThreadSelector: Equatable {
        case all
        case any
        case thread(Int64)
    }

    private func threadSelector(_ text: Substring) -> ThreadSelector? {
        var text = text
        if text.first == "p" {
            guard let dot = text.firstIndex(of: ".") else { return .all }
            text = text[text.index(after: dot)...]
        }
        if text == "-1" { return .all }
        guard let number = GDBPacket.number(text) else { return nil }
        return number == 0 ? .any : .thread(Int64(bitPattern: number))
    }

    /// The hart `g`, `p`, `G` and `P` read and write: `Hg`'s thread's, else the stopped one's.
    private func generalHart(_ target: some GDBTarget) -> HartState? {
        target.hart(ofThread: generalThread ?? stoppedThread) ?? target.hart(ofThread: stoppedThread)
    }

    /// Answers one packet; returns how to resume if it resumes the guest.
    private func handle(_ raw: [UInt8], target: some GDBTarget) -> GDBResume? {
        // Only `X` carries binary data; the rest is text.
        if raw.first == UInt8(ascii: "X") {
            send(writeBinary(raw, memory: target.memory))
            return nil
        }
        let packet = String(decoding: raw, as: UTF8.self)
        let command = packet.first ?? " "
        let body = packet.dropFirst()
        switch command {
        case "?": send(stopReply(lastStop, thread: stoppedThread, target: target))
        case "g":
            guard let hart = generalHart(target) else { return sendAndContinue("E01") }
            send(GDBRegisters.encodeAll(hart))
        case "G":
            guard let hart = generalHart(target) else { return sendAndContinue("E01") }
            send(GDBRegisters.decodeAll(body, into: hart) ? "OK" : "E01")
        case "p":
            guard let hart = generalHart(target), let number = GDBPacket.number(body),
                let register = GDBRegisters.register(Int(number)), let value = GDBRegisters.read(register.number, hart)
            else { return sendAndContinue("E45") }
            send(GDBPacket.hexLittleEndian(value, size: register.size))
        case "P":
            let parts = body.split(separator: "=", maxSplits: 1)
            guard let hart = generalHart(target), parts.count == 2, let number = GDBPacket.number(parts[0]),
                let value = GDBPacket.littleEndian(parts[1]), GDBRegisters.write(Int(number), value, hart)
            else { return sendAndContinue("E45") }
            send("OK")
        case "m": send(readMemory(body, memory: target.memory))
        case "M": send(writeMemory(body, memory: target.memory))
        case "Z", "z": send(breakpoint(body, insert: command == "Z"))
        case "c", "C", "s", "S":
            // The old resumptions: the `Hc` thread (else the stopped one) does it, and every
            // thread runs unless `Hc` named one.
            let signal = command == "c" || command == "s" ? nil : signalNumber(body)
            let action: GDBThreadAction = command == "c" || command == "C" ? .resume(signal: signal) : .step(signal: signal)
            var resumption = GDBResumption(actions: [continueThread ?? stoppedThread: action])
            if continueThread == nil { resumption.others = .resume(signal: nil) }
            return .resume(resumption)
        case "k": return .kill
        case "D":
            send("OK")
            closeAll()
            return .detach
        case "H": send(selectThread(body, target))
        case "T":
            guard case .thread(let tid) = threadSelector(body), target.threadIDs.contains(tid) else { return sendAndContinue("E01") }
            send("OK")
        case "v": return verbose(packet, target: target)
        case "q", "Q": query(packet, target: target)
        default: send("")
        }
        return nil
    }

    /// `Hg<thread>` (registers) and `Hc<thread>` (the old `c`/`s`).
    private func selectThread(_ body: Substring, _ target: some GDBTarget) -> String {
        guard let kind = body.first, let selector = threadSelector(body.dropFirst()) else { return "E01" }
        var chosen: Int64? = nil
        if case .thread(let tid) = selector {
            guard target.threadIDs.contains(tid) else { return "E01" }
            chosen = tid
        }
        switch kind {
        case "g": generalThread = chosen
        case "c": continueThread = chosen
        default: return "E01"
        }
        return "OK"
    }

    private func sendAndContinue(_ reply: String) -> GDBResume? {
        send(reply)
        return nil
    }

    /// `vCont?`, `vCont;ACTION[:thread]...`, `vKill`, `vFile:...`, and the rest (empty).
    private func verbose(_ packet: String, target: some GDBTarget) -> GDBResume? {
        if packet == "vCont?" {
            send("vCont;c;C;s;S")
        } else if packet.hasPrefix("vCont;") {
            // Each thread does the first action that names it; an action without a thread
            // applies to the threads no action names; the rest stay stopped.
            var resumption = GDBResumption()
            for item in packet.dropFirst(6).split(separator: ";") {
                let parts = item.split(separator: ":", maxSplits: 1)
                let verb = parts[0]
                let action: GDBThreadAction
                switch verb.first {
                case "c": action = .resume(signal: nil)
                case "s": action = .step(signal: nil)
                case "C": action = .resume(signal: signalNumber(verb.dropFirst()))
                case "S": action = .step(signal: signalNumber(verb.dropFirst()))
                default: return sendAndContinue("E01")
                }
                let selector = parts.count == 2 ? threadSelector(parts[1]) : .all
                switch selector {
                case .thread(let tid): if resumption.actions[tid] == nil { resumption.actions[tid] = action }
                case .all, .any: if resumption.others == nil { resumption.others = action }
                case nil: return sendAndContinue("E01")
                }
            }
            return .resume(resumption)
        } else if packet.hasPrefix("vKill") {
            send("OK")
            return .kill
        } else if packet.hasPrefix("vFile:") {
            send(fileRequest(packet.dropFirst(6), target: target))
        } else {
            send("")
        }
        return nil
    }

    /// `q` and `Q` packets.
    private func query(_ packet: String, target: some GDBTarget) {
        if packet.hasPrefix("qSupported") {
            multiprocess = packet.contains("multiprocess+")
            send(
                "PacketSize=4000;qXfer:features:read+;qXfer:auxv:read+;qXfer:exec-file:read+;swbreak+;hwbreak+;"
                    + "QStartNoAckMode+;vContSupported+" + (multiprocess ? ";multiprocess+" : ""))
        } else if packet == "QStartNoAckMode" {
            send("OK")
            acknowledges = false
        } else if packet.hasPrefix("qXfer:features:read:target.xml:") {
            send(transfer(Array(GDBRegisters.targetDescription.utf8), range: packet.dropFirst("qXfer:features:read:target.xml:".count)))
        } else if packet.hasPrefix("qXfer:auxv:read::") {
            send(transfer(target.auxiliaryVector, range: packet.dropFirst("qXfer:auxv:read::".count)))
        } else if packet.hasPrefix("qXfer:exec-file:read:") {
            // qXfer:exec-file:read:PID:offset,length (the annex is the process, or empty).
            let rest = packet.dropFirst("qXfer:exec-file:read:".count)
            guard let colon = rest.firstIndex(of: ":") else { return send("E00") }
            send(transfer(Array(target.executablePath.utf8), range: rest[rest.index(after: colon)...]))
        } else if packet.hasPrefix("qXfer:") {
            send("E00")
        } else if packet == "qAttached" || packet.hasPrefix("qAttached:") {
            send("1")
        } else if packet == "qC" {
            send("QC" + threadID(stoppedThread, target))
        } else if packet == "qfThreadInfo" {
            send("m" + target.threadIDs.map { threadID($0, target) }.joined(separator: ","))
        } else if packet == "qsThreadInfo" {
            send("l")
        } else if packet.hasPrefix("qSymbol") {
            send("OK")
        } else {
            send("")
        }
    }

    /// A `qXfer` read of `offset,length` of `document`: `m` and a part, or `l` and the last.
    private func transfer(_ bytes: [UInt8], range: Substring) -> [UInt8] {
        let parts = range.split(separator: ",")
        guard parts.count == 2, let offset = GDBPacket.number(parts[0]), let length = GDBPacket.number(parts[1]) else {
            return Array("E00".utf8)
        }
        let start = Int(min(offset, UInt64(bytes.count)))
        let end = Int(min(UInt64(bytes.count), UInt64(start) + min(length, 1 << 20)))
        return [UInt8(ascii: end < bytes.count ? "m" : "l")] + bytes[start..<end]
    }

    /// `m addr,length`: the bytes in hex, or `E14` (EFAULT) if any is unreadable.
    private func readMemory(_ body: Substring, memory: GuestMemory) -> String {
        let parts = body.split(separator: ",")
        guard parts.count == 2, let address = GDBPacket.number(parts[0]), let length = GDBPacket.number(parts[1]),
            length <= 0x10000
        else { return "E01" }
        guard let bytes = try? memory.read(at: address, size: Int(length)) else { return "E14" }
        return GDBPacket.hex(bytes)
    }

    /// `M addr,length:hex`.
    private func writeMemory(_ body: Substring, memory: GuestMemory) -> String {
        let header = body.prefix { $0 != ":" }
        let parts = header.split(separator: ",")
        guard parts.count == 2, let address = GDBPacket.number(parts[0]), let length = GDBPacket.number(parts[1]),
            let bytes = GDBPacket.bytes(fromHex: body.dropFirst(header.count + 1)), UInt64(bytes.count) == length
        else { return "E01" }
        return (try? memory.write(bytes, at: address)) != nil ? "OK" : "E14"
    }

    /// `X addr,length:binary`.
    private func writeBinary(_ raw: [UInt8], memory: GuestMemory) -> String {
        guard let colon = raw.firstIndex(of: UInt8(ascii: ":")) else { return "E01" }
        let header = String(decoding: raw[1..<colon], as: UTF8.self)
        let parts = header.split(separator: ",")
        let bytes = GDBPacket.unescape(raw[(colon + 1)...])
        guard parts.count == 2, let address = GDBPacket.number(parts[0]), let length = GDBPacket.number(parts[1]),
            UInt64(bytes.count) == length
        else { return "E01" }
        return (try? memory.write(bytes, at: address)) != nil ? "OK" : "E14"
    }

    /// `Z0`/`Z1,addr,kind` and `z0`/`z1` (software and hardware breakpoints are the same
    /// here); `Z2`/`Z3`/`Z4,addr,length` and `z2`...`z4`: write, read and access watchpoints.
    private func breakpoint(_ body: Substring, insert: Bool) -> String {
        let parts = body.split(separator: ",")
        guard parts.count >= 3, let type = UInt8(parts[0]), type <= 4 else { return "" }
        guard let address = GDBPacket.number(parts[1]), let length = GDBPacket.number(parts[2]) else { return "E01" }
        guard let kind = GDBWatchpoint.Kind(rawValue: type) else {
            if insert { breakpoints.insert(address) } else { breakpoints.remove(address) }
            return "OK"
        }
        let watchpoint = GDBWatchpoint(kind: kind, address: address, length: length)
        if insert {
            if !watchpoints.contains(watchpoint) { watchpoints.append(watchpoint) }
        } else {
            watchpoints.removeAll { $0 == watchpoint }
        }
        return "OK"
    }

    /// The signal of `C sig[;addr]`; 0 (none) is nil.
    private func signalNumber(_ text: Substring) -> Int32? {
        let number = GDBPacket.number(text.prefix { $0 != ";" }) ?? 0
        return number == 0 ? nil : Int32(truncatingIfNeeded: number)
    }

    func hexByte(_ byte: UInt8) -> String { String(decoding: GDBPacket.hex(byte), as: UTF8.self) }

    // MARK: I/O

    /// Sends one packet.
    func send(_ payload: String) { send(Array(payload.utf8)) }

    /// Sends one packet of binary data (escaped as it goes).
    func send(_ payload: [UInt8]) {
        lastSent = GDBPacket.frame(payload)
        writeAll(lastSent)
    }

    private func writeAll(_ bytes: [UInt8]) {
        guard connection >= 0 else { return }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(connection, $0.baseAddress! + done, $0.count - done, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return closeAll() }
            done += n
        }
    }

    /// The next packet gdb sends (acknowledged if acks are on), or nil if it left or the guest
    /// is ending. An interrupt while stopped is ignored.
    private func receivePacket(abandoned: () -> Bool) -> [UInt8]? {
        while true {
            while let event = reader.next() {
                switch event {
                case .packet(let data):
                    if acknowledges { writeAll([UInt8(ascii: "+")]) }
                    return data
                case .corrupt:
                    if acknowledges { writeAll([UInt8(ascii: "-")]) }
                case .resend:
                    if acknowledges { writeAll(lastSent) }
                case .acknowledged, .interrupt:
                    break
                }
            }
            guard connection >= 0 else { return nil }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = recv(connection, &buffer, buffer.count, 0)
            if n < 0 && errno == EINTR {
                if abandoned() { return nil }
                continue
            }
            guard n > 0 else { return nil }
            reader.feed(buffer[0..<n])
        }
    }
}
