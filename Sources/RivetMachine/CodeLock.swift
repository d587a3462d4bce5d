#if canImport(Glibc)
import Glibc
#endif

/// The lock that guards guest code and what is derived from it, when guest threads run in
/// parallel: the memory map and the code marks of `GuestMemory`, and the engine's shared
/// structures (the translation cache, chaining, the compile queue's results). Harts take it for
/// each change and for the lookups the run loop makes between excursions into guest code; no
/// hart holds it while it runs guest code.
///
/// Recursive: a change to memory made while it is held (a store to a page of code from a
/// helper, `fence.i` at an exit) tells the observers — among them the translation cache — which
/// take it again. Ordering: a guest thread takes the process's lock (syscalls) before this one,
/// never the other way.
public final class CodeLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    public init() {
        mutex = .allocate(capacity: 1)
        Self.initialize(mutex)
    }

    private static func initialize(_ mutex: UnsafeMutablePointer<pthread_mutex_t>) {
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_RECURSIVE))
        pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always) public func lock() { pthread_mutex_lock(mutex) }
    @inline(__always) public func unlock() { pthread_mutex_unlock(mutex) }

    @inline(__always)
    public func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// After a host fork, in the child (the parent's holder — this thread — is the only one
    /// left, and held it across the fork): a fresh, unlocked mutex.
    public func reinitializeInChild() { Self.initialize(mutex) }
}
