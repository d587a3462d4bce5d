/// Linux errno values. riscv64 and x86-64 share the generic numbering, so a host errno passes
/// to the guest unchanged.
public enum Errno {
    public static let EPERM: Int64 = 1
    public static let ENOENT: Int64 = 2
    public static let ESRCH: Int64 = 3
    public static let EINTR: Int64 = 4
    public static let EIO: Int64 = 5
    public static let ENXIO: Int64 = 6
    public static let E2BIG: Int64 = 7
    public static let ENOEXEC: Int64 = 8
    public static let EBADF: Int64 = 9
    public static let ECHILD: Int64 = 10
    public static let EAGAIN: Int64 = 11
    public static let ENOMEM: Int64 = 12
    public static let EACCES: Int64 = 13
    public static let EFAULT: Int64 = 14
    public static let EBUSY: Int64 = 16
    public static let EEXIST: Int64 = 17
    public static let EXDEV: Int64 = 18
    public static let ENODEV: Int64 = 19
    public static let ENOTDIR: Int64 = 20
    public static let EISDIR: Int64 = 21
    public static let EINVAL: Int64 = 22
    public static let EMFILE: Int64 = 24
    public static let ENOTTY: Int64 = 25
    public static let ETXTBSY: Int64 = 26
    public static let ESPIPE: Int64 = 29
    public static let EROFS: Int64 = 30
    public static let EPIPE: Int64 = 32
    public static let EOVERFLOW: Int64 = 75
    public static let ERANGE: Int64 = 34
    public static let ENAMETOOLONG: Int64 = 36
    public static let ENOSYS: Int64 = 38
    public static let ENOTEMPTY: Int64 = 39
    public static let ELOOP: Int64 = 40
    public static let EILSEQ: Int64 = 84
    public static let EOPNOTSUPP: Int64 = 95
    public static let ENOTSOCK: Int64 = 88
    public static let EMSGSIZE: Int64 = 90
    public static let ENOPROTOOPT: Int64 = 92
    public static let EAFNOSUPPORT: Int64 = 97
    public static let EADDRINUSE: Int64 = 98
    public static let ENOBUFS: Int64 = 105
    public static let ECONNREFUSED: Int64 = 111
}
