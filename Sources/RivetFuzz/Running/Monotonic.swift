#if canImport(Glibc)
import Glibc
#endif

/// The monotonic clock, shared by every process on the host.
package enum Monotonic {
    /// `CLOCK_MONOTONIC` now, in nanoseconds.
    package static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
