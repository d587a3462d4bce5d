/* A signal sent to a thread that waits, or is just about to wait again, must end the wait:
 * threads wait in pause (ppoll), read of an empty pipe, poll, a futex (condition variable),
 * nanosleep and sigsuspend, and the main thread sends each one signal after another, each the
 * moment the handler of the one before has run (the thread is then on its way back into its
 * wait, where a signal that came before the host call started was once lost). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

enum { kinds = 6, signalsEach = 300 };

static const char *names[kinds] = {"pause", "read", "poll", "futex", "nanosleep", "sigsuspend"};
static _Thread_local int myKind;
static atomic_int handled[kinds];
static atomic_int started;
static int ends[2];
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

static void handler(int signal) {
    (void)signal;
    atomic_fetch_add(&handled[myKind], 1);
}

static void *waiter(void *argument) {
    myKind = (int)(long)argument;
    atomic_fetch_add(&started, 1);
    char byte;
    for (;;) {
        switch (myKind) {
        case 0: pause(); break;
        case 1: read(ends[0], &byte, 1); break;
        case 2: {
            struct pollfd entry = {ends[0], POLLIN, 0};
            poll(&entry, 1, -1);
            break;
        }
        case 3:
            pthread_mutex_lock(&mutex);
            pthread_cond_wait(&never, &mutex);
            pthread_mutex_unlock(&mutex);
            break;
        case 4: {
            struct timespec long_time = {1000, 0};
            nanosleep(&long_time, NULL);
            break;
        }
        default: {
            sigset_t none;
            sigemptyset(&none);
            sigsuspend(&none);
        }
        }
    }
    return NULL;
}

int main(void) {
    struct sigaction action = {0};
    action.sa_handler = handler;
    sigaction(SIGUSR1, &action, NULL);  /* without SA_RESTART: every wait returns EINTR */
    if (pipe(ends) != 0) return 1;
    pthread_t threads[kinds];
    for (long k = 0; k < kinds; k++) pthread_create(&threads[k], NULL, waiter, (void *)k);
    while (atomic_load(&started) < kinds) sched_yield();
    for (int k = 0; k < kinds; k++) {
        for (int n = 1; n <= signalsEach; n++) {
            pthread_kill(threads[k], SIGUSR1);
            struct timespec begin, now;
            clock_gettime(CLOCK_MONOTONIC, &begin);
            while (atomic_load(&handled[k]) < n) {
                sched_yield();
                clock_gettime(CLOCK_MONOTONIC, &now);
                if (now.tv_sec - begin.tv_sec > 10) {
                    printf("%s: signal %d was not handled within 10 s\n", names[k], n);
                    fflush(stdout);
                    _exit(1);
                }
            }
        }
        printf("%s: %d signals, each handled\n", names[k], signalsEach);
    }
    return 0;
}
