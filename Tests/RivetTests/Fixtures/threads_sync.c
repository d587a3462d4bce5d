/* Guest threads: pthread_create/join, mutexes, condition variables, rwlocks, barriers,
 * semaphores, pthread_once, thread-local storage, C11 atomics, robust mutexes whose owner
 * died, signals between threads (pthread_kill, per-thread masks, kill to the process), and a
 * spin wait on a plain flag that only time slicing lets end. Output is deterministic. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define THREADS 8
#define ROUNDS 5000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static pthread_rwlock_t table = PTHREAD_RWLOCK_INITIALIZER;
static pthread_barrier_t barrier;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static sem_t tokens;
static long counter, finished, onceCalls, rwTotal;
static atomic_long atomicTotal;
static atomic_int maximum;
static __thread long local = 100;
static long locals[THREADS];

static void initialize(void) { onceCalls++; }

static void *worker(void *argument) {
    long id = (long)argument;
    pthread_once(&once, initialize);
    local += id;
    pthread_barrier_wait(&barrier);
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
        atomic_fetch_add(&atomicTotal, id);
        int seen = atomic_load(&maximum);
        while (seen < (int)(id * ROUNDS + i) && !atomic_compare_exchange_weak(&maximum, &seen, (int)(id * ROUNDS + i))) {
        }
        if (i % 100 == 0) {
            pthread_rwlock_wrlock(&table);
            rwTotal += 1;
            pthread_rwlock_unlock(&table);
        } else {
            pthread_rwlock_rdlock(&table);
            (void)rwTotal;
            pthread_rwlock_unlock(&table);
        }
    }
    sem_wait(&tokens);
    locals[id] = local;
    sem_post(&tokens);
    pthread_mutex_lock(&lock);
    finished++;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
    return (void *)(id * id);
}

/* Robust mutexes: a thread dies holding one. */
static pthread_mutex_t robust;
static void *dieHolding(void *unused) {
    (void)unused;
    pthread_mutex_lock(&robust);
    return NULL;
}

/* Signals between threads. */
static volatile sig_atomic_t handledBy[65];
static pid_t mainTid;
static void handler(int signal) { handledBy[signal] = syscall(SYS_gettid) == mainTid ? 1 : 2; }
static volatile int go;
static void *target(void *unused) {
    (void)unused;
    sigset_t blocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &blocked, NULL);
    go = 1;
    while (!handledBy[SIGUSR1]) usleep(1000);
    return NULL;
}

/* A spin wait on a plain flag: ends only if the setter gets to run. */
static volatile int flag;
static void *setter(void *unused) {
    (void)unused;
    flag = 1;
    return NULL;
}

int main(void) {
    mainTid = syscall(SYS_gettid);
    printf("main tid is the pid: %d\n", mainTid == getpid());
    pthread_barrier_init(&barrier, NULL, THREADS);
    sem_init(&tokens, 0, 2);
    pthread_t threads[THREADS];
    for (long i = 0; i < THREADS; i++) {
        if (pthread_create(&threads[i], NULL, worker, (void *)i) != 0) {
            puts("pthread_create failed");
            return 1;
        }
    }
    pthread_mutex_lock(&lock);
    while (finished < THREADS) pthread_cond_wait(&changed, &lock);
    pthread_mutex_unlock(&lock);
    long joined = 0;
    for (int i = 0; i < THREADS; i++) {
        void *result;
        pthread_join(threads[i], &result);
        joined += (long)result;
    }
    printf("counter %ld (expect %d)\n", counter, THREADS * ROUNDS);
    printf("atomic total %ld (expect %d)\n", (long)atomicTotal, ROUNDS * (THREADS * (THREADS - 1) / 2));
    printf("maximum %d (expect %d)\n", (int)maximum, (THREADS - 1) * ROUNDS + ROUNDS - 1);
    printf("writes %ld (expect %d)\n", rwTotal, THREADS * ROUNDS / 100);
    printf("once %ld, joined %ld\n", onceCalls, joined);
    for (int i = 0; i < THREADS; i++) printf("%ld ", locals[i]);
    printf("(thread-local), main's %ld\n", local);

    pthread_mutexattr_t attributes;
    pthread_mutexattr_init(&attributes);
    pthread_mutexattr_setrobust(&attributes, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&robust, &attributes);
    pthread_t dying;
    pthread_create(&dying, NULL, dieHolding, NULL);
    pthread_join(dying, NULL);
    int status = pthread_mutex_lock(&robust);
    printf("robust lock after its owner died: %s\n", status == EOWNERDEAD ? "EOWNERDEAD" : strerror(status));
    pthread_mutex_consistent(&robust);
    pthread_mutex_unlock(&robust);

    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    sigaction(SIGUSR1, &action, NULL);
    sigaction(SIGUSR2, &action, NULL);
    pthread_t other;
    pthread_create(&other, NULL, target, NULL);
    while (!go) usleep(1000);
    pthread_kill(other, SIGUSR1);
    pthread_join(other, NULL);
    printf("SIGUSR1 by pthread_kill handled by the %s thread\n", handledBy[SIGUSR1] == 2 ? "other" : "main");
    kill(getpid(), SIGUSR2);
    printf("SIGUSR2 to the process handled by the %s thread\n", handledBy[SIGUSR2] == 1 ? "main" : "other");

    pthread_t spinner;
    pthread_create(&spinner, NULL, setter, NULL);
    while (!flag) {
    }
    pthread_join(spinner, NULL);
    puts("spin wait ended");
    return 0;
}
