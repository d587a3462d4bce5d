/* execve from a process whose other threads are blocked, or about to block, in host calls,
 * round after round: Linux ends those threads before the new image runs. Each round's
 * threads wait in pause (ppoll), read and poll of a pipe, a futex (condition variable),
 * nanosleep and sigwait, and one runs guest code; the main thread execs the moment they all
 * said they are about to wait. The pipe survives exec: the next image writes a byte into it
 * and must read that byte back (a thread of the old image still in its read would take it),
 * and the last image must end (a thread nobody ended would keep the process).
 * The expectation comes from the same program built for and run on x86-64 Linux (qemu-user
 * cannot exec /proc/self/exe: it would need binfmt_misc).
 * rivet-fixture: processes
 * rivet-fixture: no-qemu */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { rounds = 24, waiters = 7 };

static int readEnd, writeEnd;
static atomic_int ready;
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static volatile unsigned long spins;

static void *waiter(void *argument) {
    long kind = (long)argument;
    atomic_fetch_add(&ready, 1);
    char byte;
    switch (kind) {
    case 0: for (;;) pause();
    case 1: for (;;) read(readEnd, &byte, 1);
    case 2:
        for (;;) {
            struct pollfd entry = {readEnd, POLLIN, 0};
            poll(&entry, 1, -1);
        }
    case 3:
        pthread_mutex_lock(&mutex);
        for (;;) pthread_cond_wait(&never, &mutex);
    case 4:
        for (;;) {
            struct timespec long_time = {1000, 0};
            nanosleep(&long_time, NULL);
        }
    case 5: {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        int signal;
        for (;;) sigwait(&set, &signal);
    }
    default:
        for (;;) spins++;
    }
    return NULL;
}

int main(int argc, char **argv) {
    int round = 0;
    if (argc == 4) {
        round = atoi(argv[1]);
        readEnd = atoi(argv[2]);
        writeEnd = atoi(argv[3]);
        /* A thread of the image before, still reading the pipe, would take this byte. */
        char sent = (char)('a' + round % 26), got = 0;
        write(writeEnd, &sent, 1);
        struct pollfd entry = {readEnd, POLLIN, 0};
        if (poll(&entry, 1, 5000) != 1 || read(readEnd, &got, 1) != 1 || got != sent) {
            printf("round %d: the byte written to the pipe did not come back\n", round);
            return 1;
        }
    } else {
        int ends[2];
        if (pipe(ends) != 0) return 2;
        readEnd = ends[0];
        writeEnd = ends[1];
    }
    if (round == rounds) {
        printf("%d rounds of execve with %d threads waiting: every byte came back\n", rounds, waiters);
        return 0;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    for (long k = 0; k < waiters; k++) {
        pthread_t thread;
        pthread_create(&thread, NULL, waiter, (void *)k);
    }
    while (atomic_load(&ready) < waiters) sched_yield();
    char next[16], in[16], out[16];
    snprintf(next, sizeof next, "%d", round + 1);
    snprintf(in, sizeof in, "%d", readEnd);
    snprintf(out, sizeof out, "%d", writeEnd);
    char *arguments[] = {argv[0], next, in, out, NULL};
    execv("/proc/self/exe", arguments);
    perror("execv");
    return 3;
}
