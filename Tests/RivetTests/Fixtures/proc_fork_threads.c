/* fork in a process with several threads: the child has only the thread that forked, runs
 * on, and can fork and run threads itself; the parent's threads are untouched. Expectation
 * from x86-64 Linux: qemu-user 7.2 can deadlock in a fork of a threaded guest.
 * rivet-fixture: processes
 * rivet-fixture: no-qemu */
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int ticks;
static void *ticker(void *unused) {
    (void)unused;
    for (;;) {
        ticks++;
        usleep(1000);
    }
}

static void *square(void *argument) { return (void *)((long)argument * (long)argument); }

int main(void) {
    pthread_t thread;
    pthread_create(&thread, NULL, ticker, NULL);
    usleep(5000);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        /* Only this thread came along: the ticker is not here. */
        int before = ticks;
        usleep(20000);
        printf("child: the ticker %s\n", ticks == before ? "stayed behind" : "came along");
        pthread_t helper;
        void *result;
        pthread_create(&helper, NULL, square, (void *)12);
        pthread_join(helper, &result);
        printf("child: a new thread computed %ld\n", (long)result);
        fflush(stdout);
        _exit(3);
    }
    int status;
    waitpid(pid, &status, 0);
    int before = ticks;
    usleep(20000);
    printf("parent: child exited %d, the ticker %s\n", WEXITSTATUS(status), ticks > before ? "still runs" : "stopped");
    return 0;
}
