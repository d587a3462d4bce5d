/* The embedder's I/O without host descriptors (GuestIOTests): standard streams from and to
 * memory, and files served from memory. Freestanding (raw syscalls, no libc), so that it
 * builds with clang alone. The first argument picks what it does:
 *   cat      copy standard input to standard output; "cat: N bytes" to standard error
 *   pollcat  the same, waiting in ppoll before each read
 *   epollcat the same, waiting in epoll_pwait before each read
 *   kind     the type fstat gives standard input (regular, fifo, char ...)
 *   block    read one byte of standard input (the test never sends it)
 *   files    exercise the virtual files /data/... (see files())
 *   none     print one line (the fixture matrix)
 * rivet-fixture: args none
 * rivet-fixture: freestanding
 * rivet-fixture: no-qemu */

typedef unsigned long u64;
typedef long i64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

static i64 sys6(i64 n, i64 a, i64 b, i64 c, i64 d, i64 e, i64 f) {
    register i64 a0 __asm__("a0") = a;
    register i64 a1 __asm__("a1") = b;
    register i64 a2 __asm__("a2") = c;
    register i64 a3 __asm__("a3") = d;
    register i64 a4 __asm__("a4") = e;
    register i64 a5 __asm__("a5") = f;
    register i64 a7 __asm__("a7") = n;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a5), "r"(a7) : "memory");
    return a0;
}
#define sys(n, a, b, c) sys6(n, (i64)(a), (i64)(b), (i64)(c), 0, 0, 0)

enum {
    SYS_epoll_create1 = 20, SYS_epoll_ctl = 21, SYS_epoll_pwait = 22, SYS_faccessat = 48, SYS_openat = 56, SYS_close = 57,
    SYS_getdents64 = 61, SYS_lseek = 62, SYS_read = 63, SYS_write = 64, SYS_pread64 = 67, SYS_ppoll = 73,
    SYS_readlinkat = 78, SYS_newfstatat = 79, SYS_fstat = 80, SYS_exit_group = 94, SYS_munmap = 215,
    SYS_mmap = 222, SYS_statx = 291, SYS_unlinkat = 35, SYS_mkdirat = 34, SYS_ftruncate = 46,
};
#define AT_FDCWD (-100)
#define O_RDONLY 0
#define O_WRONLY 1
#define O_RDWR 2
#define O_CREAT 0100
#define O_TRUNC 01000
#define O_APPEND 02000
#define O_DIRECTORY 0200000

void *memset(void *d, int c, unsigned long n) {
    u8 *p = d;
    while (n--) *p++ = (u8)c;
    return d;
}
void *memcpy(void *d, const void *s, unsigned long n) {
    u8 *p = d;
    const u8 *q = s;
    while (n--) *p++ = *q++;
    return d;
}

static unsigned long length(const char *s) {
    unsigned long n = 0;
    while (s[n]) n++;
    return n;
}
static int same(const char *a, const char *b) {
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}
static void put(int fd, const char *s) { sys(SYS_write, fd, s, length(s)); }
static void out(const char *s) { put(1, s); }
static void number(int fd, i64 v, int base) {
    char text[32];
    int k = 31;
    int negative = v < 0;
    u64 u = negative ? (u64)-v : (u64)v;
    text[k] = 0;
    do text[--k] = "0123456789abcdef"[u % base], u /= base; while (u);
    if (negative) text[--k] = '-';
    put(fd, text + k);
}
static const char *name(i64 r) {
    switch (r) {
    case -1: return "EPERM";
    case -2: return "ENOENT";
    case -9: return "EBADF";
    case -13: return "EACCES";
    case -17: return "EEXIST";
    case -20: return "ENOTDIR";
    case -21: return "EISDIR";
    case -22: return "EINVAL";
    case -30: return "EROFS";
    default: return 0;
    }
}
/* "label: result" with a negative result as its errno name. */
static void result(const char *label, i64 r) {
    out(label);
    out(": ");
    if (r < 0 && name(r)) out(name(r)); else number(1, r, 10);
    out("\n");
}

static u8 stat_buffer[256];
static u32 word(const u8 *p) { return p[0] | p[1] << 8 | p[2] << 16 | (u32)p[3] << 24; }
static i64 dword(const u8 *p) { return (i64)word(p) | (i64)word(p + 4) << 32; }

/* Copies standard input to standard output: polls 1 waits in ppoll, 2 in epoll_pwait. */
static int copy(int polls) {
    static char buffer[4096];
    i64 total = 0;
    int epoll = -1;
    if (polls == 2) {
        u8 event[16] = {1 /* EPOLLIN */};
        epoll = (int)sys(SYS_epoll_create1, 0, 0, 0);
        i64 added = sys6(SYS_epoll_ctl, epoll, 1 /* ADD */, 0, (i64)event, 0, 0);
        if (added != 0) {
            result("epoll_ctl", added);
            return 1;
        }
    }
    for (;;) {
        if (polls == 2) {
            u8 event[16];
            i64 ready = sys6(SYS_epoll_pwait, epoll, (i64)event, 1, -1, 0, 8);
            if (ready != 1 || !(word(event) & (1 | 0x10 /* EPOLLIN|EPOLLHUP */))) {
                result("epoll_pwait", ready);
                return 1;
            }
        } else if (polls) {
            struct { int fd; short events, revents; } p = {0, 1 /* POLLIN */, 0};
            i64 ready = sys6(SYS_ppoll, (i64)&p, 1, 0, 0, 8, 0);
            if (ready != 1 || !(p.revents & (1 | 0x10 /* POLLHUP */))) {
                result("ppoll", ready);
                return 1;
            }
        }
        i64 n = sys(SYS_read, 0, buffer, sizeof buffer);
        if (n < 0) {
            result("read", n);
            return 1;
        }
        if (n == 0) break;
        sys(SYS_write, 1, buffer, n);
        total += n;
    }
    put(2, "cat: ");
    number(2, total, 10);
    put(2, " bytes\n");
    return 0;
}


static void show_stat(const char *label) {
    out(label);
    out(": mode 0");
    number(1, word(stat_buffer + 16), 8);
    out(" nlink ");
    number(1, word(stat_buffer + 20), 10);
    out(" size ");
    number(1, dword(stat_buffer + 48), 10);
    out("\n");
}

static int files(void) {
    static char buffer[512];
    /* A read-only file: read, fstat, stat, statx, lseek, pread, mmap. */
    int fd = (int)sys6(SYS_openat, AT_FDCWD, (i64)"/data/motd", O_RDONLY, 0, 0, 0);
    result("open /data/motd", fd);
    i64 n = sys(SYS_read, fd, buffer, sizeof buffer);
    out("read: ");
    sys(SYS_write, 1, buffer, n);
    sys(SYS_fstat, fd, stat_buffer, 0);
    show_stat("fstat");
    sys6(SYS_newfstatat, AT_FDCWD, (i64)"/data/motd", (i64)stat_buffer, 0, 0, 0);
    show_stat("stat");
    sys6(SYS_statx, AT_FDCWD, (i64)"/data/motd", 0, 0x7ff, (i64)stat_buffer, 0);
    out("statx: mode 0");
    number(1, stat_buffer[28] | stat_buffer[29] << 8, 8);
    out(" size ");
    number(1, dword(stat_buffer + 40), 10);
    out("\n");
    result("lseek end", sys(SYS_lseek, fd, 0, 2));
    n = sys6(SYS_pread64, fd, (i64)buffer, 5, 6, 0, 0);
    out("pread at 6: ");
    sys(SYS_write, 1, buffer, n);
    out("\n");
    char *map = (char *)sys6(SYS_mmap, 0, 4096, 3 /* PROT_READ|PROT_WRITE */, 2 /* MAP_PRIVATE */, fd, 0);
    if ((i64)map < 0 && (i64)map > -4096) {
        result("mmap", (i64)map);
    } else {
        map[0] = 'J';  /* private: the file keeps its 'H' */
        out("mmap: ");
        sys(SYS_write, 1, map, 5);
        out("\n");
        sys(SYS_munmap, map, 4096, 0);
    }
    result("mmap shared writable", sys6(SYS_mmap, 0, 4096, 3, 1 /* MAP_SHARED */, fd, 0));
    struct { int fd; short events, revents; } p = {fd, 1 | 4 /* POLLIN|POLLOUT */, 0};
    i64 ready = sys6(SYS_ppoll, (i64)&p, 1, 0, 0, 8, 0);
    out("poll: ");
    number(1, ready, 10);
    out(" revents ");
    number(1, p.revents, 10);
    out("\n");
    int epoll = (int)sys(SYS_epoll_create1, 0, 0, 0);
    u8 event[16] = {1};
    result("epoll_ctl", sys6(SYS_epoll_ctl, epoll, 1 /* ADD */, fd, (i64)event, 0, 0));
    sys(SYS_close, epoll, 0, 0);
    result("write", sys(SYS_write, fd, "x", 1));
    sys(SYS_close, fd, 0, 0);

    /* Read-only means read-only. */
    result("open O_RDWR", sys6(SYS_openat, AT_FDCWD, (i64)"/data/motd", O_RDWR, 0, 0, 0));
    result("open O_TRUNC", sys6(SYS_openat, AT_FDCWD, (i64)"/data/motd", O_RDONLY | O_TRUNC, 0, 0, 0));
    result("access W_OK", sys6(SYS_faccessat, AT_FDCWD, (i64)"/data/motd", 2, 0, 0, 0));
    result("access R_OK", sys6(SYS_faccessat, AT_FDCWD, (i64)"/data/motd", 4, 0, 0, 0));
    result("unlink", sys6(SYS_unlinkat, AT_FDCWD, (i64)"/data/motd", 0, 0, 0, 0));
    result("readlink", sys6(SYS_readlinkat, AT_FDCWD, (i64)"/data/motd", (i64)buffer, sizeof buffer, 0, 0));
    int readonly = (int)sys6(SYS_openat, AT_FDCWD, (i64)"/data/motd", O_RDONLY, 0, 0, 0);
    char again[32] = "/proc/self/fd/";
    again[14] = (char)('0' + readonly);
    result("reopen O_RDWR", sys6(SYS_openat, AT_FDCWD, (i64)again, O_RDWR, 0, 0, 0));
    sys(SYS_close, readonly, 0, 0);

    /* Paths that try to leave the virtual files. */
    result("open /data/../etc/passwd", sys6(SYS_openat, AT_FDCWD, (i64)"/data/../etc/passwd", O_RDONLY, 0, 0, 0));
    result("open /data/motd/../../etc/passwd",
           sys6(SYS_openat, AT_FDCWD, (i64)"/data/motd/../../etc/passwd", O_RDONLY, 0, 0, 0));
    result("open /data/motd/x", sys6(SYS_openat, AT_FDCWD, (i64)"/data/motd/x", O_RDONLY, 0, 0, 0));
    result("open /data/sub/../../../../etc/passwd",
           sys6(SYS_openat, AT_FDCWD, (i64)"/data/sub/../../../../etc/passwd", O_RDONLY, 0, 0, 0));
    result("open /etc/passwd", sys6(SYS_openat, AT_FDCWD, (i64)"/etc/passwd", O_RDONLY, 0, 0, 0));
    result("create /data/new", sys6(SYS_openat, AT_FDCWD, (i64)"/data/new", O_WRONLY | O_CREAT, 0644, 0, 0));
    result("mkdir /data/sub/dir", sys6(SYS_mkdirat, AT_FDCWD, (i64)"/data/sub/dir", 0755, 0, 0, 0));
    result("open /data/motd as a directory", sys6(SYS_openat, AT_FDCWD, (i64)"/data/motd", O_RDONLY | O_DIRECTORY, 0, 0, 0));

    /* A directory listing: every entry's name and d_type. */
    int dir = (int)sys6(SYS_openat, AT_FDCWD, (i64)"/data", O_RDONLY | O_DIRECTORY, 0, 0, 0);
    result("open /data", dir);
    static u8 entries[2048];
    n = sys(SYS_getdents64, dir, entries, sizeof entries);
    for (i64 k = 0; k < n;) {
        u16 size = entries[k + 16] | entries[k + 17] << 8;
        out("entry ");
        out((char *)entries + k + 19);
        out(" type ");
        number(1, entries[k + 18], 10);
        out("\n");
        k += size;
    }
    sys(SYS_close, dir, 0, 0);
    sys6(SYS_newfstatat, AT_FDCWD, (i64)"/data/sub", (i64)stat_buffer, 0, 0, 0);
    show_stat("stat /data/sub");

    /* A writable file: truncate it, write, read back. */
    fd = (int)sys6(SYS_openat, AT_FDCWD, (i64)"/data/out.txt", O_RDWR | O_TRUNC, 0, 0, 0);
    result("open /data/out.txt", fd);
    result("write", sys(SYS_write, fd, "written by the guest\n", 21));
    result("append", sys(SYS_write, sys6(SYS_openat, AT_FDCWD, (i64)"/data/out.txt", O_WRONLY | O_APPEND, 0, 0, 0),
                         "and appended\n", 13));
    n = sys6(SYS_pread64, fd, (i64)buffer, sizeof buffer, 0, 0, 0);
    out("read back: ");
    sys(SYS_write, 1, buffer, n);
    result("access W_OK", sys6(SYS_faccessat, AT_FDCWD, (i64)"/data/out.txt", 2, 0, 0, 0));
    sys(SYS_close, fd, 0, 0);
    return 0;
}

static int stdin_kind(void) {
    sys(SYS_fstat, 0, stat_buffer, 0);
    switch (word(stat_buffer + 16) & 0170000) {
    case 0100000: out("regular\n"); break;
    case 0010000: out("fifo\n"); break;
    case 0020000: out("char\n"); break;
    default: out("other\n"); break;
    }
    return 0;
}

int cmain(long *stack) {
    long argc = stack[0];
    char **argv = (char **)(stack + 1);
    const char *mode = argc > 1 ? argv[1] : "none";
    if (same(mode, "cat")) return copy(0);
    if (same(mode, "pollcat")) return copy(1);
    if (same(mode, "epollcat")) return copy(2);
    if (same(mode, "kind")) return stdin_kind();
    if (same(mode, "files")) return files();
    if (same(mode, "block")) {
        char c;
        out("blocking\n");
        result("read", sys(SYS_read, 0, &c, 1));
        return 0;
    }
    out("io_virtual: nothing to do\n");
    return 0;
}

__asm__(".globl _start\n"
        "_start:\n"
        "  mv a0, sp\n"
        "  andi sp, sp, -16\n"
        "  call cmain\n"
        "  li a7, 94\n"
        "  ecall\n");
