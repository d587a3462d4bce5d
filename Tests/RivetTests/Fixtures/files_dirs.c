/* Directories and names through glibc, in the (writable) working directory: mkdir, rmdir,
 * readdir (opendir, rewinddir, telldir/seekdir, fdopendir), getdents64 on a tiny buffer,
 * chdir/fchdir/getcwd, openat relative to a directory descriptor, rename and renameat2
 * (RENAME_NOREPLACE, RENAME_EXCHANGE), unlink, link, symlink and readlink, stat/lstat/fstatat,
 * statx, access/faccessat, chmod/fchmod/fchmodat, utimensat/futimens, mknod of a FIFO, statfs. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

static void show(const char *what, long result) {
    if (result < 0)
        printf("%-44s -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%-44s %ld\n", what, result);
}

static int compare(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The names in a directory, sorted, with their d_type. */
static void list(const char *path) {
    DIR *d = opendir(path);
    if (!d) {
        printf("opendir(%s) failed: %s\n", path, strerrorname_np(errno));
        return;
    }
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        char *s = malloc(300);
        snprintf(s, 300, "%s:%c", e->d_name,
                 e->d_type == DT_DIR ? 'd' : e->d_type == DT_REG ? 'f' : e->d_type == DT_LNK ? 'l' :
                 e->d_type == DT_FIFO ? 'p' : '?');
        names[n++] = s;
    }
    closedir(d);
    qsort(names, n, sizeof names[0], compare);
    printf("ls %s:", path);
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
}

static void touch(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    write(fd, text, strlen(text));
    close(fd);
}

/* The last `count` components of the working directory (the rest is the scratch directory). */
static void cwd_tail(int count) {
    char buf[4096];
    if (!getcwd(buf, sizeof buf)) {
        printf("getcwd failed: %s\n", strerrorname_np(errno));
        return;
    }
    char *p = buf + strlen(buf);
    for (int seen = 0; p > buf; p--)
        if (p[-1] == '/' && ++seen == count) break;
    printf("cwd ends with %s\n", p);
}

int main(void) {
    umask(022);
    show("mkdir d", mkdir("d", 0755));
    show("mkdir d again", mkdir("d", 0755));
    show("mkdir d/e/f (missing parent)", mkdir("d/e/f", 0755));
    show("mkdir d/e", mkdir("d/e", 0700));
    touch("d/one", "1");
    touch("d/two", "22");
    show("symlink one -> d/link", symlink("one", "d/link"));
    show("symlink again", symlink("one", "d/link"));
    show("mkfifo d/fifo", mkfifo("d/fifo", 0644));
    list("d");
    list("d/");
    list("d/e/..");

    /* readdir positions. */
    DIR *dir = opendir("d");
    long start = telldir(dir);
    struct dirent *first = readdir(dir);
    char name[256];
    strcpy(name, first->d_name);
    long after = telldir(dir);
    readdir(dir);
    seekdir(dir, after);
    struct dirent *again = readdir(dir);
    seekdir(dir, start);
    show("seekdir back to the start", strcmp(readdir(dir)->d_name, name) == 0);
    rewinddir(dir);
    int count = 0;
    while (readdir(dir)) count++;
    show("entries after rewinddir", count);
    touch("d/three", "333");
    rewinddir(dir);
    count = 0;
    while (readdir(dir)) count++;
    show("rewinddir sees a new file", count);
    closedir(dir);
    (void)again;

    /* getdents64 with a buffer too small for one entry, then one entry at a time. */
    int fd = open("d", O_RDONLY | O_DIRECTORY);
    char small[16];
    show("getdents64 tiny buffer", syscall(SYS_getdents64, fd, small, sizeof small));
    char one[40];
    count = 0;
    long n;
    while ((n = syscall(SYS_getdents64, fd, one, sizeof one)) > 0) count++;
    show("getdents64 one at a time", count);
    show("getdents64 on a file", syscall(SYS_getdents64, open("d/one", O_RDONLY), one, sizeof one));

    /* Relative to a directory descriptor. */
    int at = openat(fd, "two", O_RDONLY);
    char buf[64] = {0};
    read(at, buf, sizeof buf);
    printf("openat(d, two) reads %s\n", buf);
    close(at);
    show("openat(file fd, x)", openat(open("d/one", O_RDONLY), "x", O_RDONLY));
    show("openat(bad fd, x)", openat(99, "x", O_RDONLY));
    show("mkdirat(d, sub)", mkdirat(fd, "sub", 0755));
    show("unlinkat(d, sub, AT_REMOVEDIR)", unlinkat(fd, "sub", AT_REMOVEDIR));
    struct stat st;
    show("fstatat(d, one)", fstatat(fd, "one", &st, 0));
    printf("  size %lld regular %d\n", (long long)st.st_size, S_ISREG(st.st_mode));
    show("fstatat(d, link, NOFOLLOW) is a link", (fstatat(fd, "link", &st, AT_SYMLINK_NOFOLLOW), S_ISLNK(st.st_mode)));
    show("fstatat(d, link) is regular", (fstatat(fd, "link", &st, 0), S_ISREG(st.st_mode)));
    show("fstatat(fd, \"\", AT_EMPTY_PATH) is a dir", (fstatat(fd, "", &st, AT_EMPTY_PATH), S_ISDIR(st.st_mode)));
    show("fstatat(fd, \"\") without AT_EMPTY_PATH", fstatat(fd, "", &st, 0));
    show("stat(d/fifo) is a FIFO", (stat("d/fifo", &st), S_ISFIFO(st.st_mode)));
    show("stat(d/e) mode", (stat("d/e", &st), st.st_mode & 07777));
    struct statx sx;
    show("statx(d/two)", statx(AT_FDCWD, "d/two", 0, STATX_BASIC_STATS, &sx));
    printf("  size %llu regular %d mask has size %d\n", (unsigned long long)sx.stx_size, S_ISREG(sx.stx_mode),
           (sx.stx_mask & STATX_SIZE) != 0);
    show("statx(d/link, NOFOLLOW) is a link", (statx(AT_FDCWD, "d/link", AT_SYMLINK_NOFOLLOW, STATX_TYPE, &sx), S_ISLNK(sx.stx_mode)));
    show("statx(fd, \"\", AT_EMPTY_PATH) is a dir", (statx(fd, "", AT_EMPTY_PATH, STATX_TYPE, &sx), S_ISDIR(sx.stx_mode)));
    show("statx(missing)", statx(AT_FDCWD, "d/missing", 0, STATX_TYPE, &sx));
    close(fd);

    /* Links. */
    memset(buf, 0, sizeof buf);
    show("readlink(d/link)", readlink("d/link", buf, sizeof buf));
    printf("  -> %s\n", buf);
    show("readlink short buffer", readlink("d/link", buf, 2));
    show("readlink(d/one) not a link", readlink("d/one", buf, sizeof buf));
    show("readlink(missing)", readlink("d/missing", buf, sizeof buf));
    show("link(d/one, d/hard)", link("d/one", "d/hard"));
    show("nlink of d/one", (stat("d/one", &st), st.st_nlink));
    show("link onto an existing name", link("d/one", "d/two"));
    show("link(d, d2) of a directory", link("d", "d2"));
    show("symlink dangling", symlink("nowhere", "d/dangling"));
    show("open(d/dangling)", open("d/dangling", O_RDONLY));
    show("open(d/dangling, O_CREAT) creates the target", open("d/dangling", O_WRONLY | O_CREAT, 0644) >= 0);
    show("access(d/nowhere)", access("d/nowhere", F_OK));
    show("open(d/dangling2, O_CREAT|O_EXCL)", (symlink("gone", "d/dangling2"), open("d/dangling2", O_WRONLY | O_CREAT | O_EXCL, 0644)));
    show("stat through a symlinked dir", (symlink("d", "dl"), stat("dl/two", &st)));
    show("lstat(dl/) follows", (lstat("dl/", &st), S_ISDIR(st.st_mode)));

    /* Renames. */
    show("rename(d/two, d/2)", rename("d/two", "d/2"));
    show("rename missing", rename("d/two", "d/3"));
    show("rename onto an existing file", rename("d/2", "d/one"));
    memset(buf, 0, sizeof buf);
    fd = open("d/one", O_RDONLY);
    read(fd, buf, sizeof buf);
    close(fd);
    printf("d/one now reads %s\n", buf);
    touch("d/x", "x");
    touch("d/y", "y");
    show("renameat2 NOREPLACE onto existing", renameat2(AT_FDCWD, "d/x", AT_FDCWD, "d/y", RENAME_NOREPLACE));
    show("renameat2 NOREPLACE to new", renameat2(AT_FDCWD, "d/x", AT_FDCWD, "d/z", RENAME_NOREPLACE));
    show("renameat2 EXCHANGE", renameat2(AT_FDCWD, "d/y", AT_FDCWD, "d/z", RENAME_EXCHANGE));
    memset(buf, 0, sizeof buf);
    fd = open("d/y", O_RDONLY);
    read(fd, buf, sizeof buf);
    close(fd);
    printf("d/y now reads %s\n", buf);
    show("renameat2 bad flags", renameat2(AT_FDCWD, "d/y", AT_FDCWD, "d/z", RENAME_EXCHANGE | RENAME_NOREPLACE));
    show("rename dir into itself", rename("d", "d/e/inside"));
    show("rename(d/e, d/ee)", rename("d/e", "d/ee"));
    show("rename file onto dir", rename("d/y", "d/ee"));

    /* Removal. */
    show("rmdir non-empty", rmdir("d"));
    show("rmdir a file", rmdir("d/y"));
    show("unlink a directory", unlink("d/ee"));
    show("unlink(d/y)", unlink("d/y"));
    show("unlink again", unlink("d/y"));
    show("unlink(d/link) removes the link", unlink("d/link"));
    show("d/one still there", access("d/one", F_OK));
    show("rmdir(d/ee)", rmdir("d/ee"));

    /* Working directory. */
    show("chdir(d)", chdir("d"));
    cwd_tail(1);
    show("chdir(../dl) through a symlink", chdir("../dl"));
    cwd_tail(1);
    show("chdir(one) not a dir", chdir("one"));
    show("chdir(missing)", chdir("missing"));
    fd = open("..", O_RDONLY | O_DIRECTORY);
    show("fchdir(..)", fchdir(fd));
    close(fd);
    show("access(d/one) after fchdir", access("d/one", R_OK));
    show("fchdir(file)", fchdir(open("d/one", O_RDONLY)));
    char tiny[2];
    show("getcwd into 2 bytes", getcwd(tiny, sizeof tiny) ? 0 : -1);

    /* Access and modes. */
    show("access(d/one, R_OK|W_OK)", access("d/one", R_OK | W_OK));
    show("access(d, X_OK)", access("d", X_OK));
    show("access(d/one, 8) bad mode", access("d/one", 8));
    show("faccessat(AT_EACCESS)", faccessat(AT_FDCWD, "d/one", R_OK, AT_EACCESS));
    show("chmod(d/one, 0600)", chmod("d/one", 0600));
    show("  mode", (stat("d/one", &st), st.st_mode & 07777));
    fd = open("d/one", O_RDONLY);
    show("fchmod(0640)", fchmod(fd, 0640));
    show("  mode", (fstat(fd, &st), st.st_mode & 07777));
    show("fchmodat(d, one, 0604)", fchmodat(AT_FDCWD, "d/one", 0604, 0));
    show("  mode", (stat("d/one", &st), st.st_mode & 07777));
    show("chmod(missing)", chmod("d/missing", 0600));

    /* Times. */
    struct timespec times[2] = {{1000000000, 5}, {1200000000, 7}};
    show("utimensat(d/one)", utimensat(AT_FDCWD, "d/one", times, 0));
    stat("d/one", &st);
    printf("  atime %ld.%ld mtime %ld.%ld\n", (long)st.st_atim.tv_sec, st.st_atim.tv_nsec, (long)st.st_mtim.tv_sec,
           st.st_mtim.tv_nsec);
    struct timespec omit[2] = {{0, UTIME_OMIT}, {1300000000, 0}};
    show("futimens with UTIME_OMIT", futimens(fd, omit));
    fstat(fd, &st);
    printf("  atime %ld mtime %ld\n", (long)st.st_atim.tv_sec, (long)st.st_mtim.tv_sec);
    show("utimensat NOFOLLOW on a link", (symlink("one", "d/l2"), utimensat(AT_FDCWD, "d/l2", times, AT_SYMLINK_NOFOLLOW)));
    close(fd);

    /* Filesystem status. */
    struct statfs sf;
    show("statfs(.)", statfs(".", &sf));
    show("  not read-only", (sf.f_flags & ST_RDONLY) != 0);
    show("mknod(d/node, S_IFREG)", mknod("d/node", S_IFREG | 0644, 0));
    show("  is regular", (stat("d/node", &st), S_ISREG(st.st_mode)));
    return 0;
}
