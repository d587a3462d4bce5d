/* Adversarial: a guest hunting for Rivet's own process in /proc. Under --host-fs the host's
 * /proc is visible; /proc/self, /proc/PID, /proc/thread-self, /proc/PID/task/TID and
 * /proc/TID of Rivet's threads (the ids come as arguments from the test, which knows them)
 * must all be the guest's emulated view or not exist: never Rivet's mem, pagemap, environ or
 * maps. Prints what it reached; every line must say "refused" or "guest's own".
 * rivet-fixture: no-qemu */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static char buffer[1 << 16];

static long slurp(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    long total = 0, n;
    while (total < (long)sizeof buffer - 1 && (n = read(fd, buffer + total, sizeof buffer - 1 - total)) > 0) total += n;
    close(fd);
    buffer[total] = 0;
    return total;
}

/* Whether the environ file read into `buffer` is exactly the guest's own environment. */
static int own_environ(long size) {
    long at = 0;
    for (char **e = environ; *e; e++) {
        size_t n = strlen(*e) + 1;
        if (at + (long)n > size || memcmp(buffer + at, *e, n) != 0) return 0;
        at += n;
    }
    return at == size;
}

static int leaks = 0;

static void probe(const char *label, const char *dir) {
    char path[256];
    const char *dangerous[] = {"mem", "pagemap", "auxv", "status", "stat", "syscall", "mountinfo", "root/.", "fdinfo/0"};
    int reached = 0;
    for (unsigned k = 0; k < sizeof dangerous / sizeof *dangerous; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, dangerous[k]);
        int fd = open(path, O_RDWR);
        if (fd < 0) fd = open(path, O_RDONLY);
        if (fd >= 0) {
            printf("LEAK %s: opened %s\n", label, dangerous[k]);
            reached++;
            close(fd);
        }
    }
    snprintf(path, sizeof path, "%s/maps", dir);
    long size = slurp(path);
    if (size >= 0 && (strstr(buffer, "swift") || strstr(buffer, "libc.so") || strstr(buffer, "[vsyscall]"))) {
        printf("LEAK %s: host maps\n", label);
        reached++;
    }
    snprintf(path, sizeof path, "%s/environ", dir);
    size = slurp(path);
    if (size >= 0 && !own_environ(size)) {
        printf("LEAK %s: host environ\n", label);
        reached++;
    }
    leaks += reached;
}

int main(int argc, char **argv) {
    char dir[128];
    probe("self", "/proc/self");
    snprintf(dir, sizeof dir, "/proc/%d", getpid());
    probe("pid", dir);
    probe("thread-self", "/proc/thread-self");
    snprintf(dir, sizeof dir, "/proc/%d/task/%d", getpid(), getpid());
    probe("task", dir);
    for (int k = 1; k < argc; k++) {
        snprintf(dir, sizeof dir, "/proc/%s", argv[k]);
        probe("rivet thread", dir);
        snprintf(dir, sizeof dir, "/proc/%d/task/%s", getpid(), argv[k]);
        probe("rivet task", dir);
        snprintf(dir, sizeof dir, "/proc/self/task/%s", argv[k]);
        probe("rivet self task", dir);
    }
    /* Writing through /proc/self/mem must not reach anything either. */
    int fd = open("/proc/self/mem", O_RDWR);
    printf("open /proc/self/mem for writing: %s\n", fd < 0 ? strerrorname_np(errno) : "opened");
    printf("rivet threads probed: %d, leaks: %d\n", argc - 1, leaks);
    return leaks == 0 ? 0 : 1;
}
