#if canImport(Glibc)
import Glibc
#endif

/// Host calls for waiting on descriptors, made as raw syscalls: Swift's Glibc module leaves
/// out `<sys/epoll.h>`, `<sys/eventfd.h>` and `<sys/timerfd.h>`, and hides `ppoll` behind
/// `_GNU_SOURCE`. Every descriptor made here is close-on-exec on
/// the host.
///
/// Results follow the kernel's convention: a value, or a negative errno. Blocking calls end
/// with -EINTR when Rivet's watchdog or a forwarded signal interrupts the hart's thread; the
/// caller decides what the guest sees.
package enum HostIO {
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
        #else
        static let ppoll = 73
        static let epollCreate1 = 20
        static let epollControl = 21
        static let epollWait = 22
        static let eventfd2 = 19
        static let timerfdCreate = 85
        static let timerfdSetTime = 86
        static let timerfdGetTime = 87
        #endif
    }

    /// O_CLOEXEC, which is also EPOLL_CLOEXEC, EFD_CLOEXEC and TFD_CLOEXEC.
    static let closeOnExec = Int(O_CLOEXEC)

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
    static func eventfd(_ initial: UInt32, flags: Int) -> Int { call(Number.eventfd2, Int(initial), flags | closeOnExec) }

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
}
