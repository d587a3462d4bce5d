/* Waiting for signals with threads: sigsuspend (the mask from before the call comes back
 * after the handler), sigwaitinfo taking a signal every thread blocks (pending for the
 * process), sigtimedwait timing out with EAGAIN. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>
static volatile int got;
static void h(int s) { got = s; }
static void *sender(void *a) { usleep(20000); kill(getpid(), SIGUSR1); usleep(20000); kill(getpid(), SIGUSR2); return 0; }
int main(void) {
    signal(SIGUSR1, h);
    sigset_t block, old, waitset, empty;
    sigemptyset(&block); sigaddset(&block, SIGUSR1); sigaddset(&block, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    pthread_t t; pthread_create(&t, 0, sender, 0);
    sigemptyset(&empty); sigaddset(&empty, SIGUSR2);
    int r = sigsuspend(&empty);
    printf("sigsuspend %d errno %s got %d\n", r, strerror(errno), got);
    sigset_t now; pthread_sigmask(SIG_BLOCK, NULL, &now);
    printf("mask restored: %d\n", sigismember(&now, SIGUSR1) && sigismember(&now, SIGUSR2));
    sigemptyset(&waitset); sigaddset(&waitset, SIGUSR2);
    siginfo_t info;
    int s = sigwaitinfo(&waitset, &info);
    printf("sigwaitinfo %d signo %d\n", s, info.si_signo);
    struct timespec ts = {0, 30000000};
    s = sigtimedwait(&waitset, &info, &ts);
    printf("sigtimedwait %d %s\n", s, strerror(errno));
    pthread_join(t, 0);
    return 0;
}
