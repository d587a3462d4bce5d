/* Paths outside the grants: two forked children and then the parent open host files that no
 * grant covers (or, under the fixture runs, that the read-only sysroot at / lacks); each gets
 * ENOENT, as if the file were missing. SandboxNoteTests runs it without a sysroot and checks that
 * Rivet says why on standard error once for the whole run, not once per process.
 * qemu-user sees the host's files, so the expectations are written by hand.
 * rivet-fixture: processes
 * rivet-fixture: no-qemu */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *who, const char *what, int result) {
    printf("%s: %s: %s\n", who, what, result < 0 ? strerrorname_np(errno) : "found");
    fflush(stdout);
}

int main(void) {
    for (int k = 0; k < 2; k++) {
        pid_t pid = fork();
        if (pid == 0) {
            char who[16];
            snprintf(who, sizeof who, "child %d", k);
            report(who, "open(/etc/passwd)", open("/etc/passwd", O_RDONLY));
            _exit(0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
    }
    struct stat info;
    report("parent", "stat(/etc/hostname)", stat("/etc/hostname", &info));
    report("parent", "open(/tmp/new, O_CREAT)", open("/tmp/new", O_WRONLY | O_CREAT, 0644));
    return 0;
}
