/* exit() in one thread ends the process while the others wait: the main thread in
 * pthread_join (a futex wait), another in a condition variable, another in a read of a pipe. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static int pipeEnds[2];

static void *waitForever(void *unused) {
    (void)unused;
    pthread_mutex_lock(&lock);
    for (;;) pthread_cond_wait(&never, &lock);
}

static void *readForever(void *unused) {
    (void)unused;
    char byte;
    read(pipeEnds[0], &byte, 1);
    return NULL;
}

static void *exitSoon(void *unused) {
    (void)unused;
    usleep(20000);
    puts("a thread calls exit(3)");
    fflush(stdout);
    exit(3);
}

int main(void) {
    pipe(pipeEnds);
    pthread_t a, b, c;
    pthread_create(&a, NULL, waitForever, NULL);
    pthread_create(&b, NULL, readForever, NULL);
    pthread_create(&c, NULL, exitSoon, NULL);
    pthread_join(a, NULL);
    puts("not reached");
    return 0;
}
