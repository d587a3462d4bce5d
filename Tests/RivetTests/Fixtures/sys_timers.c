/* Interval timers: setitimer/getitimer (ITIMER_REAL: one-shot, periodic, the old value
 * returned), SIGALRM interrupting a blocking read (EINTR without SA_RESTART), and POSIX timers
 * (timer_create with SIGEV_SIGNAL and SIGEV_NONE on CLOCK_MONOTONIC and CLOCK_REALTIME,
 * relative and TIMER_ABSTIME, timer_gettime, timer_getoverrun, timer_delete). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t alarms, usr1;
static void onAlarm(int signal) { (void)signal; alarms++; }
static void onUsr1(int signal) { (void)signal; usr1++; }

static void waitFor(volatile sig_atomic_t *counter, int target) {
    sigset_t none;
    sigemptyset(&none);
    while (*counter < target) sigsuspend(&none);
}

int main(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = onAlarm;
    sigaction(SIGALRM, &action, NULL);
    action.sa_handler = onUsr1;
    sigaction(SIGUSR1, &action, NULL);
    sigset_t blocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGALRM);
    sigaddset(&blocked, SIGUSR1);
    sigprocmask(SIG_BLOCK, &blocked, NULL);

    /* One-shot. */
    struct itimerval value = {{0, 0}, {0, 50000}}, old;
    /* getitimer right after: the first printf's code (stdio's set-up; under --tier opt, tier 2
     * compiling every block of it) may take longer than the timer on a loaded machine. */
    int armed = setitimer(ITIMER_REAL, &value, NULL);
    getitimer(ITIMER_REAL, &old);
    printf("setitimer: %d\n", armed);
    printf("armed, left at most 50 ms: %s\n", old.it_value.tv_sec == 0 && old.it_value.tv_usec > 0 && old.it_value.tv_usec <= 50000 ? "yes" : "no");
    waitFor(&alarms, 1);
    getitimer(ITIMER_REAL, &old);
    printf("after it fired: %ld.%06ld\n", (long)old.it_value.tv_sec, (long)old.it_value.tv_usec);

    /* Periodic, then replaced: the old value comes back. */
    struct itimerval periodic = {{0, 10000}, {0, 10000}};
    setitimer(ITIMER_REAL, &periodic, NULL);
    waitFor(&alarms, 6);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, &old);
    printf("periodic: 5 more alarms; old interval %ld.%06ld\n", (long)old.it_interval.tv_sec, (long)old.it_interval.tv_usec);
    struct itimerval bad = {{0, 0}, {0, 1000000}};
    printf("usec out of range: %d %s\n", setitimer(ITIMER_REAL, &bad, NULL), strerror(errno));

    /* SIGALRM interrupts a blocking read when the handler has no SA_RESTART. */
    sigprocmask(SIG_UNBLOCK, &blocked, NULL);
    int fds[2];
    pipe(fds);
    struct itimerval soon = {{0, 0}, {0, 30000}};
    setitimer(ITIMER_REAL, &soon, NULL);
    char byte;
    ssize_t n = read(fds[0], &byte, 1);
    printf("read: %zd %s, alarms %d\n", n, n < 0 ? strerror(errno) : "", (int)alarms);
    sigprocmask(SIG_BLOCK, &blocked, NULL);

    /* POSIX timers. */
    struct sigevent event;
    memset(&event, 0, sizeof event);
    event.sigev_notify = SIGEV_SIGNAL;
    event.sigev_signo = SIGUSR1;
    timer_t timer;
    printf("timer_create: %d\n", timer_create(CLOCK_MONOTONIC, &event, &timer));
    struct itimerspec spec = {{0, 0}, {0, 20000000}}, now;
    timer_settime(timer, 0, &spec, NULL);
    waitFor(&usr1, 1);
    timer_gettime(timer, &now);
    printf("monotonic one-shot fired; left %ld.%09ld, overrun %d\n", (long)now.it_value.tv_sec, now.it_value.tv_nsec, timer_getoverrun(timer));
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    wall.tv_nsec += 20000000;
    if (wall.tv_nsec >= 1000000000) wall.tv_sec++, wall.tv_nsec -= 1000000000;
    timer_t realtime;
    timer_create(CLOCK_REALTIME, &event, &realtime);
    struct itimerspec absolute = {{0, 0}, wall};
    printf("TIMER_ABSTIME: %d\n", timer_settime(realtime, TIMER_ABSTIME, &absolute, NULL));
    waitFor(&usr1, 2);
    printf("realtime absolute fired\n");
    struct itimerspec every = {{0, 5000000}, {0, 5000000}};
    timer_settime(timer, 0, &every, NULL);
    waitFor(&usr1, 5);
    struct itimerspec stop = {{0, 0}, {0, 0}}, was;
    timer_settime(timer, 0, &stop, &was);
    printf("periodic: interval was %ld ns\n", was.it_interval.tv_nsec);

    struct sigevent none;
    memset(&none, 0, sizeof none);
    none.sigev_notify = SIGEV_NONE;
    timer_t quiet;
    timer_create(CLOCK_MONOTONIC, &none, &quiet);
    struct itimerspec second = {{0, 0}, {1, 0}};
    timer_settime(quiet, 0, &second, NULL);
    usleep(20000);
    timer_gettime(quiet, &now);
    printf("SIGEV_NONE counts down: %s\n", now.it_value.tv_sec == 0 && now.it_value.tv_nsec > 500000000 && now.it_value.tv_nsec < 990000000 ? "yes" : "no");

    printf("timer_delete: %d", timer_delete(timer));
    printf(", again: %d %s\n", timer_delete(timer), strerror(errno));
    timer_delete(realtime);
    timer_delete(quiet);
    return 0;
}
