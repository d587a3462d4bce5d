/* Adversarial: a guest that will not stop by itself. The argument says how: "sleep" (in
 * nanosleep), "stdin" (reading a terminal nobody types into), "pipe" (writing to a full pipe),
 * "fault-loop" (a SIGSEGV handler that returns to the faulting load forever), "spin" (a loop
 * the JIT compiles). --timeout must end each within its limit. With "signals" it handles the
 * host signals Rivet forwards (SA_RESTART, blocked in read) and reports what it received.
 * Run as "none" it just exits (for the fixture matrix).
 * rivet-fixture: args none
 * rivet-fixture: no-qemu */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_segv(int sig) { (void)sig; }

static volatile unsigned long received;
static void on_signal(int sig) { received |= 1ul << sig; }

int main(int argc, char **argv) {
    const char *how = argc > 1 ? argv[1] : "none";
    if (strcmp(how, "none") != 0 && strcmp(how, "signals") != 0) {
        printf("ready\n");
        fflush(stdout);
    }
    if (strcmp(how, "sleep") == 0) {
        sleep(1000);
    } else if (strcmp(how, "stdin") == 0) {
        char c;
        read(0, &c, 1);
    } else if (strcmp(how, "pipe") == 0) {
        int fds[2];
        pipe(fds);
        char block[4096] = {0};
        for (;;) write(fds[1], block, sizeof block);
    } else if (strcmp(how, "fault-loop") == 0) {
        signal(SIGSEGV, on_segv);
        volatile int *nothing = (int *)16;
        return *nothing;
    } else if (strcmp(how, "spin") == 0) {
        volatile unsigned long n = 0;
        for (;;) n++;
    } else if (strcmp(how, "signals") == 0) {
        int wanted[] = {SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM, SIGCHLD, SIGWINCH};
        unsigned long all = 0;
        struct sigaction action = {0};
        action.sa_handler = on_signal;
        action.sa_flags = SA_RESTART;
        for (unsigned k = 0; k < sizeof wanted / sizeof *wanted; k++) {
            sigaction(wanted[k], &action, NULL);
            all |= 1ul << wanted[k];
        }
        printf("ready\n");
        fflush(stdout);
        /* SA_RESTART: the read goes on after each handler; the test writes a byte now and then
         * until all have come. */
        char c;
        long n;
        do n = read(0, &c, 1);
        while (n == 1 && received != all);
        printf("read returned %ld after the handlers; all received: %s\n", n, received == all ? "yes" : "no");
        return 0;
    }
    printf("done\n");
    return 0;
}
