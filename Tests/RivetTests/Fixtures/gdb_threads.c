// The guest GDBStubTests debugs: a global to watch (`counter`, written and read by the
// functions below), and worker threads that spin while main runs, for `info threads`, thread
// switches and all-stop (at a stop of main, the workers' `spins` must not move).
// rivet-fixture: cflags -g
// rivet-fixture: no-qemu (built without qemu here; the output is fixed by the program)
#include <pthread.h>
#include <stdio.h>

#define WORKERS 3

volatile long counter;
volatile long spins[WORKERS];
volatile int stop_spinning;
volatile int finished[WORKERS];
static pthread_barrier_t started;

// Breakpoint targets: every worker runs, and spins.
__attribute__((noinline)) void all_started(void) { __asm__ volatile(""); }
__attribute__((noinline)) void in_worker(long id) { __asm__ volatile("" ::"r"(id)); }

// One load and one store of `counter`; one load.
__attribute__((noinline)) void bump(void) { counter = counter + 1; }
__attribute__((noinline)) long peek(void) { return counter; }

static void *worker(void *argument) {
    long id = (long)argument;
    in_worker(id);
    pthread_barrier_wait(&started);
    while (!stop_spinning) spins[id]++;
    finished[id] = 1;  // only the worker touches it: a watchpoint here stops the worker
    return NULL;
}

int main(void) {
    pthread_t threads[WORKERS];
    pthread_barrier_init(&started, NULL, WORKERS + 1);
    for (long i = 0; i < WORKERS; i++) pthread_create(&threads[i], NULL, worker, (void *)i);
    pthread_barrier_wait(&started);
    for (int i = 0; i < WORKERS; i++) {
        while (spins[i] == 0) {
        }
    }
    all_started();
    bump();
    bump();
    bump();
    long seen = peek();
    stop_spinning = 1;
    for (int i = 0; i < WORKERS; i++) pthread_join(threads[i], NULL);
    printf("counter %ld, seen %ld\n", counter, seen);
    return 0;
}
