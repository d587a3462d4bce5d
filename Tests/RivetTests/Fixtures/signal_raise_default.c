/* raise(SIGTERM) with the default disposition terminates the process: exit status 143.
 * First, ignored signals and signals whose default is to ignore them change nothing; then
 * SIGTERM raised while blocked stays pending and kills the process the moment
 * sigprocmask unblocks it. (The direct raise after that is only reached if it did not.) */
#include <signal.h>
#include <stdio.h>

int main(void) {
    signal(SIGUSR1, SIG_IGN);
    printf("raise(SIGUSR1) ignored: %d\n", raise(SIGUSR1));
    printf("raise(SIGCHLD) default-ignored: %d\n", raise(SIGCHLD));
    printf("raise(SIGWINCH) default-ignored: %d\n", raise(SIGWINCH));
    printf("raise(0): %d\n", raise(0));

    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    printf("raise(SIGTERM) while blocked: %d\n", raise(SIGTERM));
    sigemptyset(&pending);
    sigpending(&pending);
    printf("SIGTERM pending: %d, SIGUSR2 pending: %d\n", sigismember(&pending, SIGTERM), sigismember(&pending, SIGUSR2));
    fflush(stdout);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    puts("still alive after unblocking SIGTERM");
    fflush(stdout);
    raise(SIGTERM);
    puts("not reached");
    return 0;
}
