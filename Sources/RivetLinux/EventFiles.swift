#if canImport(Glibc)
import Glibc
#endif

/// What Rivet adds to a host descriptor whose guest behaviour is not the host's.
public enum DescriptorEmulation {
    /// A signalfd. Guest signals exist only in Rivet, so the host descriptor is an eventfd that
    /// Rivet makes readable while a signal of the queue's mask is pending, before every wait
    /// (poll, select, epoll) and read; reads return `struct signalfd_siginfo` records.
    case signals(SignalQueue)
    /// A socket, with the Unix-domain name Rivet bound for it, if any.
    case socket(SocketState)
}

/// A signalfd's state: the signals it takes, and the host eventfd that shows its readiness.
public final class SignalQueue {
    /// The signals it reports (bit n-1 for signal n), never SIGKILL or SIGSTOP.
    public var mask: UInt64
    /// The host eventfd behind the guest descriptor (owned by the `OpenFile`).
    public let eventDescriptor: Int32

    public init(mask: UInt64, eventDescriptor: Int32) {
        self.mask = mask
        self.eventDescriptor = eventDescriptor
    }

    /// Makes the eventfd readable exactly when `ready`. It is asked rather than remembered, so
    /// that nothing the guest does to the eventfd can make it wrong for long.
    func show(ready: Bool) {
        let readable = HostIO.isReadable(eventDescriptor)
        if ready && !readable {
            var one: UInt64 = 1
            _ = Glibc.write(eventDescriptor, &one, 8)
        } else if !ready && readable {
            var count: UInt64 = 0
            _ = Glibc.read(eventDescriptor, &count, 8)  // readable: the read does not block
        }
    }
}

/// A socket's state beyond its host descriptor.
public final class SocketState {
    /// The Unix-domain name it is bound to, if Rivet bound one; an accepted socket shares its
    /// listener's (what getsockname reports for it).
    public var name: UnixName?

    public init(name: UnixName? = nil) {
        self.name = name
    }
}

/// A Unix-domain socket name: the guest's path and the host's. The host socket is bound as
/// `/proc/self/fd/D/NAME`, where D is a directory descriptor Rivet opened without following
/// symlinks (so the name cannot land outside the grant, however long the host path). The
/// descriptor stays open while the name is in use, so that the host name is unique among the
/// guest's sockets and can be translated back.
public final class UnixName {
    /// The guest's `struct sockaddr_un`, as Linux reports it (family, path, NUL).
    public let guestAddress: [UInt8]
    /// The path the host socket is bound to.
    public let hostPath: [UInt8]
    private let directory: Int32

    init(guestAddress: [UInt8], hostPath: [UInt8], directory: Int32) {
        self.guestAddress = guestAddress
        self.hostPath = hostPath
        self.directory = directory
    }

    deinit { Glibc.close(directory) }
}

/// A weak reference, for registries that must not keep what they list alive.
public struct WeakReference<Object: AnyObject> {
    public weak var object: Object?
    public init(_ object: Object) { self.object = object }
}
