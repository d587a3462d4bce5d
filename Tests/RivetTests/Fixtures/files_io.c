/* File I/O through glibc in the (writable) working directory: open flags (O_CREAT, O_EXCL,
 * O_TRUNC, O_APPEND, O_CLOEXEC, O_DIRECTORY, O_NOFOLLOW, O_PATH, O_TMPFILE), the umask,
 * read/write, lseek, pread/pwrite, readv/writev, preadv/pwritev, ftruncate/truncate, fsync,
 * dup/dup2/dup3, fcntl (F_DUPFD, F_GETFD/F_SETFD, F_GETFL/F_SETFL, F_SETLK/F_GETLK), pipe2,
 * sendfile, copy_file_range, close_range, flock, stdio (fopen, fgets, fseek, ftell). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static void show(const char *what, long result) {
    if (result < 0)
        printf("%-40s -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%-40s %ld\n", what, result);
}

static void contents(const char *path) {
    char buf[256] = {0};
    int fd = open(path, O_RDONLY);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    printf("%-40s \"%.*s\"\n", path, (int)(n < 0 ? 0 : n), buf);
}

int main(void) {
    umask(022);
    int fd = open("a.txt", O_WRONLY | O_CREAT | O_EXCL, 0777);
    show("open(a.txt, O_CREAT|O_EXCL)", fd >= 0);
    show("write 11 bytes", write(fd, "hello world", 11));
    struct stat st;
    fstat(fd, &st);
    printf("mode %o size %lld nlink %ld\n", st.st_mode, (long long)st.st_size, (long)st.st_nlink);
    show("read from O_WRONLY", read(fd, (char[4]){0}, 4));
    close(fd);
    show("open(a.txt, O_CREAT|O_EXCL) again", open("a.txt", O_WRONLY | O_CREAT | O_EXCL, 0644));
    show("open(missing.txt, O_RDONLY)", open("missing.txt", O_RDONLY));
    show("open(a.txt/, O_RDONLY)", open("a.txt/", O_RDONLY));
    show("open(a.txt, O_DIRECTORY)", open("a.txt", O_RDONLY | O_DIRECTORY));
    show("open(., O_WRONLY)", open(".", O_WRONLY));
    show("open(new/, O_CREAT)", open("new/", O_WRONLY | O_CREAT, 0644));

    umask(077);
    fd = open("private.txt", O_RDWR | O_CREAT, 0666);
    fstat(fd, &st);
    printf("umask 077: mode %o\n", st.st_mode & 0777);
    close(fd);
    umask(022);

    /* Offsets. */
    fd = open("a.txt", O_RDWR);
    show("lseek SEEK_END", lseek(fd, 0, SEEK_END));
    show("lseek SEEK_SET 6", lseek(fd, 6, SEEK_SET));
    char buf[64] = {0};
    show("read 5", read(fd, buf, 5));
    printf("  -> %s\n", buf);
    show("lseek SEEK_CUR -5", lseek(fd, -5, SEEK_CUR));
    show("lseek negative", lseek(fd, -100, SEEK_SET));
    show("pwrite WORLD at 6", pwrite(fd, "WORLD", 5, 6));
    memset(buf, 0, sizeof buf);
    show("pread 5 at 0", pread(fd, buf, 5, 0));
    printf("  -> %s, position still %ld\n", buf, (long)lseek(fd, 0, SEEK_CUR));
    show("pread at -1", pread(fd, buf, 5, -1));
    struct iovec out[3] = {{"ab", 2}, {"", 0}, {"cde", 3}};
    lseek(fd, 0, SEEK_END);
    show("writev 2+0+3", writev(fd, out, 3));
    char x[4] = {0}, y[8] = {0};
    struct iovec in[2] = {{x, 3}, {y, 7}};
    show("preadv at 9", preadv(fd, in, 2, 9));
    printf("  -> %s|%s\n", x, y);
    show("pwritev at 0", pwritev(fd, out, 3, 0));
    lseek(fd, 0, SEEK_SET);
    show("readv", readv(fd, in, 2));
    printf("  -> %s|%s\n", x, y);
    /* Offsets past 4 GiB (a sparse file): the raw preadv/pwritev take the offset in halves. */
    int sparse = open("sparse", O_RDWR | O_CREAT | O_TRUNC, 0644);
    off_t far = ((off_t)1 << 32) + 5;
    struct iovec farOut[1] = {{"far", 3}};
    show("pwritev past 4 GiB", pwritev(sparse, farOut, 1, far));
    char farBack[4] = {0}, hole[4] = {1, 1, 1, 0};
    struct iovec farIn[1] = {{farBack, 3}};
    show("preadv past 4 GiB", preadv(sparse, farIn, 1, far));
    show("pread of the hole at 5", pread(sparse, hole, 3, 5));
    printf("  -> %s, hole %d%d%d, size %ld\n", farBack, hole[0], hole[1], hole[2], (long)lseek(sparse, 0, SEEK_END));
    close(sparse);
    unlink("sparse");
    show("ftruncate 4", ftruncate(fd, 4));
    show("fsync", fsync(fd));
    show("fdatasync", fdatasync(fd));
    close(fd);
    contents("a.txt");
    show("truncate(a.txt, 2)", truncate("a.txt", 2));
    contents("a.txt");
    show("truncate(., 2)", truncate(".", 2));

    /* O_TRUNC, O_APPEND. */
    fd = open("a.txt", O_WRONLY | O_TRUNC);
    write(fd, "123", 3);
    close(fd);
    fd = open("a.txt", O_WRONLY | O_APPEND);
    lseek(fd, 0, SEEK_SET);
    write(fd, "45", 2);
    show("F_GETFL has O_APPEND", (fcntl(fd, F_GETFL) & O_APPEND) != 0);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_APPEND);
    show("F_SETFL cleared O_APPEND", (fcntl(fd, F_GETFL) & O_APPEND) != 0);
    show("F_GETFL access mode", fcntl(fd, F_GETFL) & O_ACCMODE);
    close(fd);
    contents("a.txt");

    /* Descriptors. */
    fd = open("a.txt", O_RDONLY | O_CLOEXEC);
    show("F_GETFD with O_CLOEXEC", fcntl(fd, F_GETFD));
    int copy = dup(fd);
    show("dup is the lowest free", copy == fd + 1);
    show("F_GETFD of dup", fcntl(copy, F_GETFD));
    show("dup shares the offset", (lseek(fd, 2, SEEK_SET), lseek(copy, 0, SEEK_CUR)));
    show("dup2 onto 10", dup2(fd, 10));
    show("dup2 onto itself", dup2(10, 10));
    show("dup3 with O_CLOEXEC", dup3(fd, 11, O_CLOEXEC));
    show("F_GETFD of 11", fcntl(11, F_GETFD));
    show("dup3 onto itself", dup3(11, 11, 0));
    show("F_DUPFD from 20", fcntl(fd, F_DUPFD, 20));
    show("F_DUPFD_CLOEXEC from 20", fcntl(fd, F_DUPFD_CLOEXEC, 20));
    show("F_SETFD 0", fcntl(21, F_SETFD, 0));
    show("F_GETFD of 21", fcntl(21, F_GETFD));
    show("close_range(20, 21)", syscall(SYS_close_range, 20, 21, 0));
    show("fstat closed 20", fstat(20, &st));
    show("close(99)", close(99));
    show("read(99)", read(99, buf, 1));
    show("dup2 to -1", dup2(fd, -1));
    close(10);
    close(11);
    close(copy);

    /* Locks. */
    struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
    int rw = open("a.txt", O_RDWR);
    show("F_SETLK write lock", fcntl(rw, F_SETLK, &lock));
    lock.l_type = F_RDLCK;
    show("F_GETLK (own lock)", fcntl(rw, F_GETLK, &lock));
    show("  l_type is F_UNLCK", lock.l_type == F_UNLCK);
    show("flock LOCK_EX", flock(rw, LOCK_EX));
    show("flock LOCK_UN", flock(rw, LOCK_UN));
    close(rw);
    close(fd);

    /* Pipes. */
    int p[2];
    show("pipe2(O_CLOEXEC)", pipe2(p, O_CLOEXEC));
    show("  read end cloexec", fcntl(p[0], F_GETFD));
    show("write to pipe", write(p[1], "through the pipe", 16));
    memset(buf, 0, sizeof buf);
    show("read from pipe", read(p[0], buf, sizeof buf));
    printf("  -> %s\n", buf);
    show("lseek on a pipe", lseek(p[0], 0, SEEK_SET));
    show("write to the read end", write(p[0], "x", 1));
    close(p[1]);
    show("read at EOF", read(p[0], buf, sizeof buf));
    close(p[0]);
    show("pipe2(O_NONBLOCK)", pipe2(p, O_NONBLOCK));
    show("  F_GETFL has O_NONBLOCK", (fcntl(p[0], F_GETFL) & O_NONBLOCK) != 0);
    show("  empty read", read(p[0], buf, 1));
    show("pipe2(bad flags)", pipe2(p, O_APPEND));

    /* Copies between files. */
    int src = open("src.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
    write(src, "0123456789", 10);
    int dst = open("dst.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
    off_t offset = 3;
    show("sendfile 4 from offset 3", sendfile(dst, src, &offset, 4));
    show("  offset now", offset);
    lseek(src, 8, SEEK_SET);
    show("sendfile from the position", sendfile(dst, src, NULL, 10));
    loff_t from = 0;
    show("copy_file_range 2", copy_file_range(src, &from, dst, NULL, 2, 0));
    close(src);
    close(dst);
    contents("dst.txt");

    /* O_NOFOLLOW, O_PATH, O_TMPFILE. */
    symlink("a.txt", "link");
    show("open(link, O_NOFOLLOW)", open("link", O_RDONLY | O_NOFOLLOW));
    fd = open("link", O_PATH | O_NOFOLLOW);
    show("open(link, O_PATH|O_NOFOLLOW)", fd >= 0);
    show("read from O_PATH", read(fd, buf, 1));
    fstatat(fd, "", &st, AT_EMPTY_PATH);
    show("fstatat(AT_EMPTY_PATH) is a link", S_ISLNK(st.st_mode));
    memset(buf, 0, sizeof buf);
    show("readlinkat(fd, \"\")", readlinkat(fd, "", buf, sizeof buf));
    printf("  -> %s\n", buf);
    close(fd);
    fd = open(".", O_TMPFILE | O_RDWR, 0600);
    show("O_TMPFILE", fd >= 0);
    show("  write", write(fd, "temp", 4));
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    show("  linkat into the directory", linkat(AT_FDCWD, path, AT_FDCWD, "kept.txt", AT_SYMLINK_FOLLOW));
    close(fd);
    contents("kept.txt");

    /* stdio. */
    FILE *f = fopen("stdio.txt", "w+");
    fprintf(f, "line one\nline two\n");
    show("ftell", ftell(f));
    rewind(f);
    fgets(buf, sizeof buf, f);
    printf("fgets -> %s", buf);
    fseek(f, -4, SEEK_END);
    fgets(buf, sizeof buf, f);
    printf("fgets after fseek -> %s", buf);
    fclose(f);
    f = fopen("stdio.txt", "a");
    fputs("line three\n", f);
    fclose(f);
    contents("stdio.txt");
    return 0;
}
