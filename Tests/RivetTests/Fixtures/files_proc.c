/* The emulated files: /proc/self/exe (readlink, open, stat), /proc/self/maps (the program's
 * and the stack's lines), /proc/self/cmdline, /proc/self/fd (listing and readlink), /dev/null,
 * /dev/zero, /dev/urandom, /dev/stdout, /dev/fd.
 * rivet-fixture: args first second */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void show(const char *what, long result) {
    if (result < 0)
        printf("%-44s -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%-44s %ld\n", what, result);
}

static const char *base(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int main(int argc, char **argv) {
    (void)argc;
    char buf[4096];

    /* /proc/self/exe */
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    buf[n < 0 ? 0 : n] = 0;
    printf("exe is absolute %d, named %s, argv[0] named %s\n", buf[0] == '/', base(buf), base(argv[0]));
    int fd = open("/proc/self/exe", O_RDONLY);
    unsigned char magic[5] = {0};
    read(fd, magic, 4);
    printf("exe starts with \\x%02x%.3s\n", magic[0], magic + 1);
    struct stat st;
    fstat(fd, &st);
    show("exe is a regular file", S_ISREG(st.st_mode));
    close(fd);
    show("lstat(/proc/self/exe) is a link", (lstat("/proc/self/exe", &st), S_ISLNK(st.st_mode)));
    show("stat(/proc/self/exe) is a file", (stat("/proc/self/exe", &st), S_ISREG(st.st_mode)));
    show("access(/proc/self/exe, X_OK)", access("/proc/self/exe", X_OK));

    /* /proc/self/maps */
    FILE *maps = fopen("/proc/self/maps", "r");
    int program = 0, stack = 0, well_formed = 1;
    while (fgets(buf, sizeof buf, maps)) {
        unsigned long start, end, offset;
        char perms[5], dev[6];
        unsigned long inode;
        int name = 0;
        if (sscanf(buf, "%lx-%lx %4s %lx %5s %lu %n", &start, &end, perms, &offset, dev, &inode, &name) < 6 ||
            start >= end || buf[strlen(buf) - 1] != '\n')
            well_formed = 0;
        char *path = buf + name;
        path[strcspn(path, "\n")] = 0;
        if (strcmp(base(path), "files_proc") == 0 && strcmp(perms, "r-xp") == 0) program++;
        if (strcmp(path, "[stack]") == 0) stack++;
        if (strcmp(path, "[stack]") == 0 && strcmp(perms, "rw-p") != 0) well_formed = 0;
    }
    fclose(maps);
    printf("maps: well formed %d, program text lines %d, stack lines %d\n", well_formed, program, stack);

    /* /proc/self/cmdline */
    fd = open("/proc/self/cmdline", O_RDONLY);
    n = read(fd, buf, sizeof buf);
    close(fd);
    printf("cmdline:");
    for (char *p = buf; p < buf + n; p += strlen(p) + 1) printf(" [%s]", p == buf ? base(p) : p);
    printf("\n");

    /* /proc/self/fd */
    int a = open("/dev/null", O_RDONLY);
    int b = open(".", O_RDONLY | O_DIRECTORY);
    DIR *d = opendir("/proc/self/fd");
    int seen_a = 0, seen_b = 0, count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        count++;
        if (atoi(e->d_name) == a) seen_a = e->d_type == DT_LNK;
        if (atoi(e->d_name) == b) seen_b = 1;
    }
    closedir(d);
    printf("/proc/self/fd lists the standard streams %d, a link for /dev/null %d, the directory %d\n",
           count >= 5, seen_a, seen_b);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", a);
    n = readlink(path, buf, sizeof buf - 1);
    buf[n < 0 ? 0 : n] = 0;
    printf("readlink(/proc/self/fd/N) = %s\n", buf);
    show("stat(/proc/self/fd/N) of /dev/null is a chr", (stat(path, &st), S_ISCHR(st.st_mode)));
    snprintf(path, sizeof path, "/proc/self/fd/%d", b);
    char cwd[4096];
    getcwd(cwd, sizeof cwd);
    n = readlink(path, buf, sizeof buf - 1);
    buf[n < 0 ? 0 : n] = 0;
    show("readlink of a directory fd is the cwd", strcmp(buf, cwd) == 0);
    show("readlink(/proc/self/fd/999)", readlink("/proc/self/fd/999", buf, sizeof buf));
    close(a);
    close(b);

    /* Devices. */
    fd = open("/dev/null", O_RDWR);
    show("write /dev/null", write(fd, "gone", 4));
    show("read /dev/null", read(fd, buf, sizeof buf));
    close(fd);
    fd = open("/dev/zero", O_RDONLY);
    memset(buf, 1, 16);
    n = read(fd, buf, 16);
    int zeros = 0;
    for (int i = 0; i < 16; i++) zeros += buf[i] == 0;
    printf("/dev/zero read %ld bytes, %d zero\n", (long)n, zeros);
    close(fd);
    fd = open("/dev/urandom", O_RDONLY);
    show("read /dev/urandom", read(fd, buf, 32));
    close(fd);
    show("stat(/dev/null) is a chr", (stat("/dev/null", &st), S_ISCHR(st.st_mode)));
    show("access(/dev/null, W_OK)", access("/dev/null", W_OK));
    show("open(/dev/fd/1) for writing", (fd = open("/dev/fd/1", O_WRONLY | O_APPEND)) >= 0);
    close(fd);
    /* Last, as appending through another open file description moves past stdout's offset. */
    fflush(stdout);
    FILE *out = fopen("/dev/stdout", "a");
    fprintf(out, "written through /dev/stdout\n");
    fclose(out);
    fd = open("/dev/fd/1", O_WRONLY | O_APPEND);
    write(fd, "written through /dev/fd/1\n", 26);
    close(fd);
    return 0;
}
