/* Processes: fork with a pipe between parent and child, wait4 with exit statuses and a
 * child killed by a signal, waitid, ten children reaped in any order, vfork, a child
 * stopped by SIGTERM sent with kill (its handler exits), process groups and SIGCHLD. (A fork of a
 * threaded parent is proc_fork_threads: qemu-user can deadlock there.)
 * rivet-fixture: processes */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t childSignals;
static void onChild(int signal) { (void)signal; childSignals++; }
static volatile sig_atomic_t terminated;
static void onTerm(int signal) { (void)signal; terminated = 1; }

int main(void) {
    signal(SIGCHLD, onChild);
    int ends[2];
    pipe(ends);
    pid_t pid = fork();
    if (pid == 0) {
        close(ends[0]);
        char message[64];
        int n = snprintf(message, sizeof message, "child sees parent %s", getppid() > 1 ? "alive" : "gone");
        write(ends[1], message, n);
        _exit(5);
    }
    close(ends[1]);
    char buffer[64] = {0};
    read(ends[0], buffer, sizeof buffer - 1);
    int status;
    struct rusage usage;
    pid_t reaped = wait4(pid, &status, 0, &usage);
    printf("read \"%s\"; reaped the child: %d, exited %d with %d\n", buffer, reaped == pid, WIFEXITED(status),
           WEXITSTATUS(status));

    pid = fork();
    if (pid == 0) {
        *(volatile int *)16 = 1;
        _exit(0);
    }
    waitpid(pid, &status, 0);
    printf("a child that faulted: signaled %d by signal %d\n", WIFSIGNALED(status), WTERMSIG(status));

    pid = fork();
    if (pid == 0) _exit(9);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    waitid(P_PID, pid, &info, WEXITED);
    printf("waitid: code CLD_EXITED %d, status %d, pid matches %d\n", info.si_code == CLD_EXITED, info.si_status,
           info.si_pid == pid);

    int sum = 0;
    for (int k = 0; k < 10; k++) {
        if (fork() == 0) _exit(k);
    }
    for (int k = 0; k < 10; k++) {
        if (wait(&status) > 0) sum += WEXITSTATUS(status);
    }
    printf("ten children, exit statuses sum to %d; another wait: %s\n", sum, wait(&status) < 0 && errno == ECHILD ? "ECHILD" : "?");

    pid = vfork();
    if (pid == 0) _exit(3);
    waitpid(pid, &status, 0);
    printf("vfork child exited %d\n", WEXITSTATUS(status));

    int ready[2];
    pipe(ready);
    pid = fork();
    if (pid == 0) {
        /* SIGTERM stays blocked except inside sigsuspend, so it cannot slip in between the
         * test of the flag and the wait. */
        sigset_t term, none;
        sigemptyset(&term);
        sigaddset(&term, SIGTERM);
        sigemptyset(&none);
        sigprocmask(SIG_BLOCK, &term, NULL);
        signal(SIGTERM, onTerm);
        setpgid(0, 0);
        write(ready[1], "x", 1);
        while (!terminated) sigsuspend(&none);
        _exit(getpgid(0) == getpid() ? 42 : 43);
    }
    char byte;
    read(ready[0], &byte, 1);
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    printf("a child given SIGTERM ran its handler and exited %d\n", WEXITSTATUS(status));

    printf("SIGCHLD seen: %s\n", childSignals > 0 ? "yes" : "no");
    return 0;
}
