/* Adversarial: writing to a pipe nobody reads. Ignoring SIGPIPE gives EPIPE; a handler runs
 * and the write still fails with EPIPE; the default action kills the guest (status 141), never
 * Rivet itself.
 * The tests run it in its own rivet process: in the test process, a child another test spawns
 * (posix_spawn) holds the pipe's read end for an instant before its exec closes it, and a write
 * in that instant succeeds (seen once under `swift test`).
 * rivet-fixture: processes */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile int caught;
static void on_pipe(int sig) { caught = sig; }

static void attempt(const char *what) {
    int fds[2];
    if (pipe(fds) != 0) return;
    close(fds[0]);
    errno = 0;
    long n = write(fds[1], "x", 1);
    printf("%-24s write %ld %s, handler saw %d\n", what, n, n < 0 ? strerrorname_np(errno) : "", caught);
    fflush(stdout);
    close(fds[1]);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    attempt("ignored");
    signal(SIGPIPE, on_pipe);
    attempt("handled");
    signal(SIGPIPE, SIG_DFL);
    attempt("default");
    printf("not reached\n");
    return 0;
}
