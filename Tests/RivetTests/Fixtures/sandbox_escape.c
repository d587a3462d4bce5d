/* The sandbox holds: the guest, granted only its (writable) working directory and the
 * read-only sysroot at /, cannot reach a host file outside them by an absolute path, by `..`,
 * or by a symlink it makes itself (to the host path, to /etc/passwd, to ../../..); it cannot
 * write, create, remove, rename, link or change anything in the read-only grant; it cannot
 * remove or rename the directory it was granted; it cannot make device nodes or set-user-ID
 * files; it cannot open /dev/tty or reopen its read-only standard input for writing.
 * qemu-user does none of this, so the expectations are written by hand.
 * rivet-fixture: no-qemu */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static void show(const char *what, long result) {
    if (result < 0)
        printf("%-48s -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%-48s %ld\n", what, result);
}

/* Whether `path` (a directory) lists `name`, and as which type. */
static int lists(const char *path, const char *name) {
    DIR *d = opendir(path);
    if (!d) return -1;
    struct dirent *e;
    int type = 0;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, name) == 0) type = e->d_type;
    closedir(d);
    return type;
}

int main(void) {
    char host[4096], path[8192], buf[4096], cwd[4096];
    getcwd(cwd, sizeof cwd);

    /* The executable is a real host file outside the grants: only /proc/self/exe reaches it. */
    ssize_t n = readlink("/proc/self/exe", host, sizeof host - 1);
    host[n < 0 ? 0 : n] = 0;
    show("open(/proc/self/exe)", open("/proc/self/exe", O_RDONLY) >= 0);
    show("open(host path of the executable)", open(host, O_RDONLY));
    show("stat(host path of the executable)", stat(host, &(struct stat){0}));
    snprintf(path, sizeof path, "../../../../../../../../..%s", host);
    show("open(../../../..<host path>)", open(path, O_RDONLY));
    show("symlink(<host path>, exe-link)", symlink(host, "exe-link"));
    show("open(exe-link)", open("exe-link", O_RDONLY));
    n = readlink("exe-link", buf, sizeof buf);
    show("readlink(exe-link) gives the text back", n == (ssize_t)strlen(host));
    show("open(/etc/passwd)", open("/etc/passwd", O_RDONLY));
    show("open(../../../../etc/passwd)", open("../../../../etc/passwd", O_RDONLY));
    show("symlink(/etc/passwd, passwd)", symlink("/etc/passwd", "passwd"));
    show("open(passwd)", open("passwd", O_RDONLY));
    show("symlink(../../../../../../.., up)", symlink("../../../../../../..", "up"));
    show("open(up/etc/passwd)", open("up/etc/passwd", O_RDONLY));
    show("up lists proc as a directory", lists("up", "proc") == DT_DIR);
    show("up lists dev as a directory", lists("up", "dev") == DT_DIR);
    show("up lists etc", lists("up", "etc"));
    show("symlink(loop, loop)", symlink("loop", "loop"));
    show("open(loop)", open("loop", O_RDONLY));
    show("open(/proc/1/environ)", open("/proc/1/environ", O_RDONLY));
    show("open(/dev/sda)", open("/dev/sda", O_RDONLY));
    show("open(/dev/tty)", open("/dev/tty", O_RDWR));
    show("open(/proc/self/exe, O_WRONLY)", open("/proc/self/exe", O_WRONLY));
    show("open(/proc/self/maps, O_RDWR)", open("/proc/self/maps", O_RDWR));
    show("open(/proc/self/newfile, O_CREAT)", open("/proc/self/newfile", O_WRONLY | O_CREAT, 0644));
    snprintf(path, sizeof path, "/proc/%d/maps", getpid());
    show("open(/proc/<pid>/maps)", open(path, O_RDONLY) >= 0);
    n = readlink("/proc/self/cwd", buf, sizeof buf - 1);
    buf[n < 0 ? 0 : n] = 0;
    show("readlink(/proc/self/cwd) is getcwd", strcmp(buf, cwd) == 0);

    /* The parent of the granted directory shows only it. */
    DIR *d = opendir("..");
    int others = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') others++;
    closedir(d);
    show("entries in .. besides . and ..", others);
    show("mkdir(../sibling)", mkdir("../sibling", 0755));
    show("rmdir(<cwd>)", rmdir(cwd));
    show("rename(<cwd>, ../moved)", rename(cwd, "../moved"));

    /* The sysroot at / is read-only. */
    show("open(/lib/new, O_CREAT)", open("/lib/new", O_WRONLY | O_CREAT, 0644));
    show("open(/lib/libc.so.6, O_RDWR)", open("/lib/libc.so.6", O_RDWR));
    show("open(/lib/libc.so.6, O_RDONLY|O_TRUNC)", open("/lib/libc.so.6", O_RDONLY | O_TRUNC));
    show("open(/lib/libc.so.6, O_RDONLY)", open("/lib/libc.so.6", O_RDONLY) >= 0);
    show("open(/lib, O_RDONLY|O_CREAT) existing", open("/lib/libc.so.6", O_RDONLY | O_CREAT, 0644) >= 0);
    show("mkdir(/lib/x)", mkdir("/lib/x", 0755));
    show("mkdir(/newdir)", mkdir("/newdir", 0755));
    show("mkdir(/lib) existing", mkdir("/lib", 0755));
    show("unlink(/lib/libc.so.6)", unlink("/lib/libc.so.6"));
    show("rmdir(/lib)", rmdir("/lib"));
    show("symlink(x, /lib/link)", symlink("x", "/lib/link"));
    show("chmod(/lib/libc.so.6, 0777)", chmod("/lib/libc.so.6", 0777));
    show("chown(/lib/libc.so.6)", chown("/lib/libc.so.6", 0, 0));
    show("utimensat(/lib/libc.so.6)", utimensat(AT_FDCWD, "/lib/libc.so.6", NULL, 0));
    show("truncate(/lib/libc.so.6, 0)", truncate("/lib/libc.so.6", 0));
    show("access(/lib, W_OK)", access("/lib", W_OK));
    show("access(/lib/libc.so.6, W_OK)", access("/lib/libc.so.6", W_OK));
    show("access(/lib, R_OK|X_OK)", access("/lib", R_OK | X_OK));
    show("rename(/lib/libc.so.6, here)", rename("/lib/libc.so.6", "here"));
    show("link(/lib/libc.so.6, here)", link("/lib/libc.so.6", "here"));
    show("rename(/lib, /lib2)", rename("/lib", "/lib2"));
    struct statfs sf;
    statfs("/lib", &sf);
    show("statfs(/lib) is read-only", (sf.f_flags & ST_RDONLY) != 0);
    statfs(".", &sf);
    show("statfs(.) is read-only", (sf.f_flags & ST_RDONLY) != 0);
    int fd = open("/lib/libc.so.6", O_RDONLY);
    show("fchmod(read-only grant file)", fchmod(fd, 0777));
    close(fd);

    /* What a writable grant still does not allow. */
    show("mknod(char device)", mknod("null2", S_IFCHR | 0666, makedev(1, 3)));
    show("mknod(block device)", mknod("disk", S_IFBLK | 0666, makedev(8, 0)));
    show("mknod(fifo)", mknod("fifo", S_IFIFO | 0644, 0));
    fd = open("setuid", O_WRONLY | O_CREAT, 04755);
    struct stat st;
    fstat(fd, &st);
    show("open(O_CREAT, 04755) drops set-user-ID", st.st_mode & 07777);
    show("fchmod(02755) drops set-group-ID", (fchmod(fd, 02755), fstat(fd, &st), st.st_mode & 07777));
    show("chmod(06777) drops both", (chmod("setuid", 06777), stat("setuid", &st), st.st_mode & 07777));
    close(fd);
    show("fchmod(stdout)", fchmod(1, 0777));
    show("open(/proc/self/fd/0, O_WRONLY)", open("/proc/self/fd/0", O_WRONLY));
    show("open(/dev/stdin, O_RDONLY)", open("/dev/stdin", O_RDONLY) >= 0);
    show("chroot(.)", chroot("."));
    return 0;
}
