#if canImport(Glibc)
import Glibc
#endif

/// Host calls for waiting on descriptors and for sockets, made as raw syscalls: Swift's Glibc
/// module leaves out `<sys/epoll.h>`, `<sys/eventfd.h>` and `<sys/timerfd.h>`, and hides
/// `ppoll` and `accept4` behind `_GNU_SOURCE`. Every descriptor made here is close-on-exec on
/// the host.
///
/// Results follow the kernel's convention: a value, or a negative errno. Blocking calls end
/// with -EINTR when Rivet's watchdog or a forwarded signal interrupts the hart's thread; the
/// caller decides what the guest sees.
public enum HostIO {
    /// Host syscall numbers (the host's, not the guest's).
    private enum Number {
        #if arch(x86_64)
        static let ppoll = 271
        static let epollCreate1 = 291
        static let epollControl = 233
        static let epollWait = 281  // epoll_pwait, with no signal mask
        static let eventfd2 = 290
        static let timerfdCreate = 283
        static let timerfdSetTime = 286
        static let timerfdGetTime = 287
        static let socket = 41
        static let socketPair = 53
        static let bind = 49
        static let listen = 50
        static let accept4 = 288
        static let connect = 42
        static let getSocketName = 51
        static let getPeerName = 52
        static let sendTo = 44
        static let receiveFrom = 45
        static let setSocketOption = 54
        static let getSocketOption = 55
        static let shutdown = 48
        static let sendMessage = 46
        static let receiveMessage = 47
        static let compareProcesses = 312  // kcmp
        static let clockNanosleep = 230
        static let wait4 = 61
        static let read = 0
        static let write = 1
        static let pread = 17
        static let pwrite = 18
        static let readv = 19
        static let writev = 20
        static let preadv = 295
        static let pwritev = 296
        #else
        static let ppoll = 73
        static let epollCreate1 = 20
        static let epollControl = 21
        static let epollWait = 22
        static let eventfd2 = 19
        static let timerfdCreate = 85
        static let timerfdSetTime = 86
        static let timerfdGetTime = 87
        static let socket = 198
        static let socketPair = 199
        static let bind = 200
        static let listen = 201
        static let accept4 = 242
        static let connect = 203
        static let getSocketName = 204
        static let getPeerName = 205
        static let sendTo = 206
        static let receiveFrom = 207
        static let setSocketOption = 208
        static let getSocketOption = 209
        static let shutdown = 210
        static let sendMessage = 211
        static let receiveMessage = 212
        static let compareProcesses = 272
        static let clockNanosleep = 115
        static let wait4 = 260
        static let read = 63
        static let write = 64
        static let pread = 67
        static let pwrite = 68
        static let readv = 65
        static let writev = 66
        static let preadv = 69
        static let pwritev = 70
        #endif
    }

    /// O_CLOEXEC, which is also EPOLL_CLOEXEC, EFD_CLOEXEC, TFD_CLOEXEC and SOCK_CLOEXEC.
    static let closeOnExec = Int(O_CLOEXEC)
    /// MSG_CMSG_CLOEXEC: descriptors received in SCM_RIGHTS are close-on-exec.
    static let messageCloseOnExec = 0x4000_0000

    private static func call(_ number: Int, _ a: Int = 0, _ b: Int = 0, _ c: Int = 0, _ d: Int = 0, _ e: Int = 0, _ f: Int = 0)
        -> Int
    {
        HostFileSystem.call(number, a, b, c, d, e, f)
    }

    private static func bits(_ pointer: UnsafeRawPointer?) -> Int { Int(bitPattern: pointer) }

    // MARK: Waiting

    /// ppoll(2) without a signal mask; `timeout` nil waits for ever.
    static func poll(_ fds: UnsafeMutableBufferPointer<pollfd>, timeout: timespec?) -> Int {
        if var timeout {
            return withUnsafePointer(to: &timeout) { call(Number.ppoll, bits(fds.baseAddress), fds.count, bits($0)) }
        }
        return call(Number.ppoll, bits(fds.baseAddress), fds.count, 0)
    }

    /// read(2), or pread(2) at `offset`: the bytes read, or -errno.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64? = nil) -> Int {
        if let offset { return call(Number.pread, Int(fd), bits(buffer.baseAddress), buffer.count, Int(offset)) }
        return call(Number.read, Int(fd), bits(buffer.baseAddress), buffer.count)
    }

    /// pread(2) at `offset` until `buffer` is full or the file ends: how many bytes were read,
    /// or nil if a read fails.
    static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) -> Int? {
        var done = 0
        while done < buffer.count {
            let n = read(fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]), at: offset + Int64(done))
            if n == -Int(EINTR) { continue }
            if n < 0 { return nil }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// The first `count` bytes of the file open at `fd` (fewer if it ends first), read at offset
    /// 0 into storage that is not zeroed first (zeroing was one more pass over a program's
    /// pages: 8% of a fork and exec), or nil if a read fails.
    public static func readWhole(_ fd: Int32, count: Int) -> [UInt8]? {
        var failed = false
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            let done = readFully(fd, into: UnsafeMutableRawBufferPointer(buffer), at: 0)
            failed = done == nil
            initialized = done ?? 0
        }
        return failed ? nil : bytes
    }

    /// write(2), or pwrite(2) at `offset`: the bytes written, or -errno.
    static func write(_ fd: Int32, from buffer: UnsafeRawBufferPointer, at offset: Int64? = nil) -> Int {
        if let offset { return call(Number.pwrite, Int(fd), bits(buffer.baseAddress), buffer.count, Int(offset)) }
        return call(Number.write, Int(fd), bits(buffer.baseAddress), buffer.count)
    }

    /// readv/writev, or preadv/pwritev at `offset`: the bytes moved, or -errno.
    static func transfer(_ fd: Int32, _ vectors: UnsafeBufferPointer<iovec>, write: Bool, at offset: Int64?) -> Int {
        let base = bits(vectors.baseAddress)
        guard let offset else { return call(write ? Number.writev : Number.readv, Int(fd), base, vectors.count) }
        // The offset as glibc passes it (pos_l, pos_h): a 64-bit kernel takes all of pos_l.
        return call(write ? Number.pwritev : Number.preadv, Int(fd), base, vectors.count, Int(offset), Int(offset >> 32))
    }

    /// clock_nanosleep(clock, TIMER_ABSTIME, until): 0, or -errno (-EINTR when interrupted).
    static func sleep(until: timespec, on clock: clockid_t) -> Int {
        withUnsafePointer(to: until) { call(Number.clockNanosleep, Int(clock), Int(TIMER_ABSTIME), bits($0), 0) }
    }

    /// wait4(2): a child's id, 0 (WNOHANG, none ready), or -errno.
    static func wait4(
        _ pid: Int32, _ status: UnsafeMutablePointer<Int32>, options: Int32, _ usage: UnsafeMutablePointer<rusage>
    ) -> Int {
        call(Number.wait4, Int(pid), bits(status), Int(options), bits(usage))
    }

    /// Whether `fd` is readable now.
    static func isReadable(_ fd: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let zero = timespec(tv_sec: 0, tv_nsec: 0)
        return withUnsafeMutablePointer(to: &entry) { poll(UnsafeMutableBufferPointer(start: $0, count: 1), timeout: zero) } > 0
    }

    /// Blocks until `fd` is ready for `events` (or an interruption: -EINTR).
    static func wait(_ fd: Int32, for events: Int16) -> Int {
        var entry = pollfd(fd: fd, events: events, revents: 0)
        return withUnsafeMutablePointer(to: &entry) { poll(UnsafeMutableBufferPointer(start: $0, count: 1), timeout: nil) }
    }

    /// epoll_create1(EPOLL_CLOEXEC).
    static func epollCreate() -> Int { call(Number.epollCreate1, closeOnExec) }

    /// epoll_ctl(2) with the event in the host's `struct epoll_event` layout (nil for DEL).
    static func epollControl(_ epoll: Int32, _ operation: Int32, _ fd: Int32, _ event: UnsafeRawPointer?) -> Int {
        call(Number.epollControl, Int(epoll), Int(operation), Int(fd), bits(event))
    }

    /// epoll_wait(2) into `buffer` (host layout); `milliseconds` -1 waits for ever.
    static func epollWait(_ epoll: Int32, _ buffer: UnsafeMutableRawPointer, count: Int, milliseconds: Int) -> Int {
        call(Number.epollWait, Int(epoll), bits(buffer), count, milliseconds, 0, 8)
    }

    /// eventfd2(2), close-on-exec.
    public static func eventfd(_ initial: UInt32, flags: Int) -> Int { call(Number.eventfd2, Int(initial), flags | closeOnExec) }

    /// timerfd_create(2), close-on-exec.
    static func timerfdCreate(_ clock: Int32, flags: Int) -> Int { call(Number.timerfdCreate, Int(clock), flags | closeOnExec) }

    /// timerfd_settime(2) with `struct itimerspec` buffers (32 bytes each; `old` may be nil).
    static func timerfdSetTime(_ fd: Int32, flags: Int32, _ new: UnsafeRawPointer, _ old: UnsafeMutableRawPointer?) -> Int {
        call(Number.timerfdSetTime, Int(fd), Int(flags), bits(new), bits(old))
    }

    /// timerfd_gettime(2) into a 32-byte `struct itimerspec`.
    static func timerfdGetTime(_ fd: Int32, _ current: UnsafeMutableRawPointer) -> Int {
        call(Number.timerfdGetTime, Int(fd), bits(current))
    }

    // MARK: Sockets

    static func socket(_ domain: Int32, _ type: Int32, _ protocolNumber: Int32) -> Int {
        call(Number.socket, Int(domain), Int(type) | closeOnExec, Int(protocolNumber))
    }

    static func socketPair(_ domain: Int32, _ type: Int32, _ protocolNumber: Int32) -> Result<(Int32, Int32), SandboxError> {
        var fds: (Int32, Int32) = (-1, -1)
        let result = withUnsafeMutablePointer(to: &fds) {
            call(Number.socketPair, Int(domain), Int(type) | closeOnExec, Int(protocolNumber), bits($0))
        }
        return result == 0 ? .success(fds) : .failure(SandboxError(Int64(-result)))
    }

    static func bind(_ fd: Int32, _ address: UnsafeRawBufferPointer) -> Int {
        call(Number.bind, Int(fd), bits(address.baseAddress), address.count)
    }

    static func connect(_ fd: Int32, _ address: UnsafeRawBufferPointer) -> Int {
        call(Number.connect, Int(fd), bits(address.baseAddress), address.count)
    }

    static func listen(_ fd: Int32, backlog: Int32) -> Int { call(Number.listen, Int(fd), Int(backlog)) }

    /// accept4(2); the peer's address goes to `address` (128 bytes), its length to `length`.
    static func accept(_ fd: Int32, _ address: UnsafeMutableRawPointer, _ length: UnsafeMutablePointer<UInt32>, flags: Int32)
        -> Int
    {
        call(Number.accept4, Int(fd), bits(address), bits(length), Int(flags) | closeOnExec)
    }

    /// getsockname(2) (`peer` false) or getpeername(2).
    static func name(_ fd: Int32, peer: Bool, _ address: UnsafeMutableRawPointer, _ length: UnsafeMutablePointer<UInt32>) -> Int {
        call(peer ? Number.getPeerName : Number.getSocketName, Int(fd), bits(address), bits(length))
    }

    static func sendTo(_ fd: Int32, _ data: UnsafeRawBufferPointer, flags: Int32, _ address: UnsafeRawBufferPointer?) -> Int {
        call(
            Number.sendTo, Int(fd), bits(data.baseAddress), data.count, Int(flags), bits(address?.baseAddress),
            address?.count ?? 0)
    }

    static func receiveFrom(
        _ fd: Int32, _ data: UnsafeMutableRawBufferPointer, flags: Int32, _ address: UnsafeMutableRawPointer?,
        _ length: UnsafeMutablePointer<UInt32>?
    ) -> Int {
        call(Number.receiveFrom, Int(fd), bits(data.baseAddress), data.count, Int(flags), bits(address), bits(length))
    }

    static func setOption(_ fd: Int32, level: Int32, name: Int32, _ value: UnsafeRawBufferPointer) -> Int {
        call(Number.setSocketOption, Int(fd), Int(level), Int(name), bits(value.baseAddress), value.count)
    }

    static func getOption(
        _ fd: Int32, level: Int32, name: Int32, _ value: UnsafeMutableRawPointer, _ length: UnsafeMutablePointer<UInt32>
    ) -> Int {
        call(Number.getSocketOption, Int(fd), Int(level), Int(name), bits(value), bits(length))
    }

    static func shutdown(_ fd: Int32, _ how: Int32) -> Int { call(Number.shutdown, Int(fd), Int(how)) }

    /// sendmsg(2) with a host `struct msghdr`.
    static func sendMessage(_ fd: Int32, _ message: UnsafePointer<msghdr>, flags: Int32) -> Int {
        call(Number.sendMessage, Int(fd), bits(message), Int(flags))
    }

    /// recvmsg(2) with a host `struct msghdr`; received descriptors are close-on-exec.
    static func receiveMessage(_ fd: Int32, _ message: UnsafeMutablePointer<msghdr>, flags: Int32) -> Int {
        call(Number.receiveMessage, Int(fd), bits(message), Int(flags) | messageCloseOnExec)
    }

    /// The SO_ERROR of a socket (a connect's result), or a negative errno.
    static func pendingError(_ fd: Int32) -> Int {
        var value: Int32 = 0
        var length = UInt32(4)
        let result = withUnsafeMutableBytes(of: &value) { getOption(fd, level: 1, name: 4, $0.baseAddress!, &length) }
        return result < 0 ? result : Int(value)
    }

    // MARK: Descriptions

    /// Whether two host descriptors of this process refer to the same open file description
    /// (kcmp KCMP_FILE); nil when the host cannot say.
    static func sameDescription(_ a: Int32, _ b: Int32) -> Bool? {
        let pid = Int(getpid())
        let result = call(Number.compareProcesses, pid, pid, 0, Int(a), Int(b))
        return result < 0 ? nil : result == 0
    }
}
