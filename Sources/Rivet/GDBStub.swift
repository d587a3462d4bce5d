#if canImport(Glibc)
import Glibc
#endif
import RivetMachine

/// Why the debugged hart stopped, as gdb is told.
package enum GDBStop: Equatable {
    /// Before the first instruction (the answer to `?` at connection).
    case initial
    /// A single step finished.
    case step
    /// The hart reached one of gdb's breakpoints (before executing it).
    case breakpoint
    /// gdb asked the running guest to stop (0x03).
    case interrupt
    /// The guest got a synchronous signal (a fault, an ebreak): reported before delivery.
    case signal(Int32)

    /// The Linux signal number the stop reply carries.
    var signal: Int32 {
        switch self {
        case .initial, .step, .breakpoint: 5  // SIGTRAP
        case .interrupt: 2  // SIGINT
        case .signal(let number): number
        }
    }
}

/// What gdb wants once it has looked at a stopped hart.
package enum GDBResume: Equatable {
    /// Run on, until a breakpoint, a signal or an interrupt; deliver `signal` first if given.
    case resume(signal: Int32?)
    /// Execute one instruction; deliver `signal` first if given.
    case step(signal: Int32?)
    /// End the guest (`k`).
    case kill
    /// gdb left (`D`, or it closed the connection): the guest runs on without it.
    case detach
}

/// A GDB remote stub on a TCP port of 127.0.0.1: it waits for gdb, and while the debugged hart
/// is stopped serves gdb's packets (registers, memory, breakpoints) until gdb resumes it.
/// Breakpoints are addresses Rivet checks before each instruction (guest code is never
/// patched); see `VirtualMachine+Debugger.swift` for how the guest runs under it.
package final class GDBStub {
    /// The port it listens on.
    package let port: UInt16
    private var listener: Int32
    private var connection: Int32 = -1
    private var reader = GDBPacketReader()
    private var acknowledges = true
    private var lastSent: [UInt8] = []
    private var lastStop = GDBStop.initial
    /// gdb's breakpoints (`Z0`/`Z1`): the hart stops before executing any of these pcs.
    package private(set) var breakpoints: Set<UInt64> = []
    /// Whether gdb is connected and has not detached.
    package private(set) var isAttached = false
    /// The guest's auxiliary vector (`qXfer:auxv:read`), from which gdb learns where a
    /// position-independent program and the dynamic linker were loaded.
    package var auxiliaryVector: () -> [UInt8] = { [] }

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
    }

    /// Whether the hart must stop before executing the instruction at `pc`.
    @inline(__always)
    package func isBreakpoint(_ pc: UInt64) -> Bool { isAttached && breakpoints.contains(pc) }

    // MARK: Serving

    /// Tells gdb why the hart stopped (unless it is the initial stop, which gdb asks about
    /// with `?`) and answers its packets until it resumes the hart.
    /// - Parameters:
    ///   - abandoned: asked when a wait is interrupted: true if the guest is ending, so that
    ///     the stub stops waiting for gdb.
    /// - Returns: what gdb wants; `.detach` if it left; `.resume` if the guest is ending.
    package func serve(_ stop: GDBStop, hart: HartState, memory: GuestMemory, abandoned: () -> Bool) -> GDBResume {
        guard isAttached else { return .detach }
        lastStop = stop
        if stop != .initial { send(stopReply(stop, hart)) }
        while true {
            guard let packet = receivePacket(abandoned: abandoned) else {
                // The guest is ending: gdb hears of the exit (`exited`) once it has.
                if abandoned() { return .resume(signal: nil) }
                closeAll()
                return .detach
            }
            if let resume = handle(packet, hart: hart, memory: memory) { return resume }
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

    /// The stop reply: `T05thread:1;swbreak:;` and the like.
    func stopReply(_ stop: GDBStop, _ hart: HartState) -> String {
        var reply = "T" + hexByte(UInt8(truncatingIfNeeded: stop.signal))
        reply += "20:" + GDBPacket.hexLittleEndian(hart.pc, size: 8) + ";"
        reply += "thread:1;"
        if stop == .breakpoint { reply += "swbreak:;" }
        return reply
    }

    /// Answers one packet; returns how to resume if it resumes the hart.
    private func handle(_ raw: [UInt8], hart: HartState, memory: GuestMemory) -> GDBResume? {
        // Only `X` carries binary data; the rest is text.
        if raw.first == UInt8(ascii: "X") {
            send(writeBinary(raw, memory: memory))
            return nil
        }
        let packet = String(decoding: raw, as: UTF8.self)
        let command = packet.first ?? " "
        let body = packet.dropFirst()
        switch command {
        case "?": send(stopReply(lastStop, hart))
        case "g": send(GDBRegisters.encodeAll(hart))
        case "G": send(GDBRegisters.decodeAll(body, into: hart) ? "OK" : "E01")
        case "p":
            guard let number = GDBPacket.number(body), let register = GDBRegisters.register(Int(number)),
                let value = GDBRegisters.read(register.number, hart)
            else { return sendAndContinue("E45") }
            send(GDBPacket.hexLittleEndian(value, size: register.size))
        case "P":
            let parts = body.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let number = GDBPacket.number(parts[0]), let value = GDBPacket.littleEndian(parts[1]),
                GDBRegisters.write(Int(number), value, hart)
            else { return sendAndContinue("E45") }
            send("OK")
        case "m": send(readMemory(body, memory: memory))
        case "M": send(writeMemory(body, memory: memory))
        case "Z", "z": send(breakpoint(body, insert: command == "Z"))
        case "c": return .resume(signal: nil)
        case "s": return .step(signal: nil)
        case "C": return .resume(signal: signalNumber(body))
        case "S": return .step(signal: signalNumber(body))
        case "k": return .kill
        case "D":
            send("OK")
            closeAll()
            return .detach
        case "H": send("OK")  // one thread: every thread selection names it
        case "T": send(body == "1" || body == "-1" ? "OK" : "E01")
        case "v": return verbose(packet)
        case "q", "Q": query(packet)
        default: send("")
        }
        return nil
    }

    private func sendAndContinue(_ reply: String) -> GDBResume? {
        send(reply)
        return nil
    }

    /// `vCont?`, `vCont;ACTION[:thread]...`, `vKill`, `vMustReplyEmpty` and the rest (empty).
    private func verbose(_ packet: String) -> GDBResume? {
        if packet == "vCont?" {
            send("vCont;c;C;s;S")
        } else if packet.hasPrefix("vCont;") {
            // The first action for thread 1 or for every thread is the hart's.
            for action in packet.dropFirst(6).split(separator: ";") {
                let parts = action.split(separator: ":", maxSplits: 1)
                if parts.count == 2, parts[1] != "1", parts[1] != "-1", parts[1] != "p1.1" { continue }
                let verb = parts[0]
                switch verb.first {
                case "c": return .resume(signal: nil)
                case "s": return .step(signal: nil)
                case "C": return .resume(signal: signalNumber(verb.dropFirst()))
                case "S": return .step(signal: signalNumber(verb.dropFirst()))
                default: continue
                }
            }
            send("E01")
        } else if packet.hasPrefix("vKill") {
            send("OK")
            return .kill
        } else {
            send("")
        }
        return nil
    }

    /// `q` and `Q` packets.
    private func query(_ packet: String) {
        if packet.hasPrefix("qSupported") {
            send("PacketSize=4000;qXfer:features:read+;qXfer:auxv:read+;swbreak+;hwbreak+;QStartNoAckMode+;vContSupported+")
        } else if packet == "QStartNoAckMode" {
            send("OK")
            acknowledges = false
        } else if packet.hasPrefix("qXfer:features:read:target.xml:") {
            send(transfer(Array(GDBRegisters.targetDescription.utf8), range: packet.dropFirst("qXfer:features:read:target.xml:".count)))
        } else if packet.hasPrefix("qXfer:auxv:read::") {
            send(transfer(auxiliaryVector(), range: packet.dropFirst("qXfer:auxv:read::".count)))
        } else if packet.hasPrefix("qXfer:features:read:") {
            send("E00")
        } else if packet == "qAttached" || packet.hasPrefix("qAttached:") {
            send("1")
        } else if packet == "qC" {
            send("QC1")
        } else if packet == "qfThreadInfo" {
            send("m1")
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

    /// `Z0/Z1,addr,kind` and `z0/z1`: software and hardware breakpoints are the same here.
    /// Watchpoints (2-4) are not supported (empty reply).
    private func breakpoint(_ body: Substring, insert: Bool) -> String {
        let parts = body.split(separator: ",")
        guard parts.count >= 2, parts[0] == "0" || parts[0] == "1" else { return "" }
        guard let address = GDBPacket.number(parts[1]) else { return "E01" }
        if insert { breakpoints.insert(address) } else { breakpoints.remove(address) }
        return "OK"
    }

    /// The signal of `C sig[;addr]`; 0 (none) is nil.
    private func signalNumber(_ text: Substring) -> Int32? {
        let number = GDBPacket.number(text.prefix { $0 != ";" }) ?? 0
        return number == 0 ? nil : Int32(truncatingIfNeeded: number)
    }

    private func hexByte(_ byte: UInt8) -> String { String(decoding: GDBPacket.hex(byte), as: UTF8.self) }

    // MARK: I/O

    /// Sends one packet.
    private func send(_ payload: String) { send(Array(payload.utf8)) }

    /// Sends one packet of binary data (escaped as it goes).
    private func send(_ payload: [UInt8]) {
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
