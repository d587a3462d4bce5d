/// Linux errno values. riscv64 and x86-64 share the generic numbering, so a host errno passes
/// to the guest unchanged.
package enum Errno {
    package static let EPERM: Int64 = 1
    package static let ENOENT: Int64 = 2
    package static let ESRCH: Int64 = 3
    package static let EINTR: Int64 = 4
    package static let EIO: Int64 = 5
    package static let ENXIO: Int64 = 6
    package static let E2BIG: Int64 = 7
    package static let ENOEXEC: Int64 = 8
    package static let EBADF: Int64 = 9
    package static let ECHILD: Int64 = 10
    package static let EAGAIN: Int64 = 11
    package static let ENOMEM: Int64 = 12
    package static let EACCES: Int64 = 13
    package static let EFAULT: Int64 = 14
    package static let EBUSY: Int64 = 16
    package static let EEXIST: Int64 = 17
    package static let EXDEV: Int64 = 18
    package static let ENODEV: Int64 = 19
    package static let ENOTDIR: Int64 = 20
    package static let EISDIR: Int64 = 21
    package static let EINVAL: Int64 = 22
    package static let EMFILE: Int64 = 24
    package static let ENOTTY: Int64 = 25
    package static let ETXTBSY: Int64 = 26
    package static let ESPIPE: Int64 = 29
    package static let EROFS: Int64 = 30
    package static let EPIPE: Int64 = 32
    package static let EOVERFLOW: Int64 = 75
    package static let ERANGE: Int64 = 34
    package static let ENAMETOOLONG: Int64 = 36
    package static let ENOSYS: Int64 = 38
    package static let ENOTEMPTY: Int64 = 39
    package static let ELOOP: Int64 = 40
    package static let EILSEQ: Int64 = 84
    package static let EOPNOTSUPP: Int64 = 95
    package static let ENOTSOCK: Int64 = 88
    package static let EMSGSIZE: Int64 = 90
    package static let ENOPROTOOPT: Int64 = 92
    package static let EAFNOSUPPORT: Int64 = 97
    package static let EADDRINUSE: Int64 = 98
    package static let ENOBUFS: Int64 = 105
    package static let ECONNREFUSED: Int64 = 111
}
