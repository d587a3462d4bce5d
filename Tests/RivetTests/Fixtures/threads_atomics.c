/* Threads hammering the A extension: amoadd.w/.d, amoor, amoxor, amomax(u)/amomin, an
 * amoswap spin lock guarding a plain counter, and LR/SC increment loops; the totals must be
 * exact. The fixture tests run it under a tiny code cache too, so that blocks are evicted
 * and recompiled while other threads run. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#define THREADS 4
#define ROUNDS 40000

static int32_t word;
static int64_t doubleword, lrscWord, lrscDouble, guarded, maxSeen = -1, minSeen = 1 << 30;
static uint64_t bits, flips, unsignedMax;
static int32_t spin;

static void *hammer(void *argument) {
    long id = (long)argument;
    for (long i = 0; i < ROUNDS; i++) {
        int32_t one = 1;
        int64_t two = 2, value = id * ROUNDS + i, old;
        __asm__ volatile("amoadd.w zero, %1, (%0)" : : "r"(&word), "r"(one) : "memory");
        __asm__ volatile("amoadd.d zero, %1, (%0)" : : "r"(&doubleword), "r"(two) : "memory");
        __asm__ volatile("amoor.d zero, %1, (%0)" : : "r"(&bits), "r"(1ull << (i % 64)) : "memory");
        __asm__ volatile("amoxor.d zero, %1, (%0)" : : "r"(&flips), "r"((uint64_t)(id + 1)) : "memory");
        __asm__ volatile("amomax.d zero, %1, (%0)" : : "r"(&maxSeen), "r"(value) : "memory");
        __asm__ volatile("amomin.d zero, %1, (%0)" : : "r"(&minSeen), "r"(value) : "memory");
        __asm__ volatile("amomaxu.d zero, %1, (%0)" : : "r"(&unsignedMax), "r"((uint64_t)value * 3) : "memory");
        /* A spin lock: amoswap.w.aq to take, amoswap.w.rl to give. */
        int32_t taken;
        do {
            __asm__ volatile("amoswap.w.aq %0, %2, (%1)" : "=r"(taken) : "r"(&spin), "r"(1) : "memory");
        } while (taken != 0);
        guarded++;
        __asm__ volatile("amoswap.w.rl zero, zero, (%0)" : : "r"(&spin) : "memory");
        /* LR/SC increments, word and doubleword. */
        int32_t failed;
        do {
            __asm__ volatile("lr.d %0, (%2)\n\taddi %0, %0, 1\n\tsc.d %1, %0, (%2)"
                             : "=&r"(old), "=&r"(failed) : "r"(&lrscDouble) : "memory");
        } while (failed);
        int32_t small;
        do {
            __asm__ volatile("lr.w.aq %0, (%2)\n\taddiw %0, %0, 3\n\tsc.w.rl %1, %0, (%2)"
                             : "=&r"(small), "=&r"(failed) : "r"(&lrscWord) : "memory");
        } while (failed);
    }
    return NULL;
}

int main(void) {
    pthread_t threads[THREADS];
    for (long i = 0; i < THREADS; i++) pthread_create(&threads[i], NULL, hammer, (void *)i);
    for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
    long total = (long)THREADS * ROUNDS;
    printf("amoadd.w %d (expect %ld)\n", word, total);
    printf("amoadd.d %ld (expect %ld)\n", (long)doubleword, 2 * total);
    printf("amoor.d %lx\n", (unsigned long)bits);
    printf("amoxor.d %lx (expect %x)\n", (unsigned long)flips, 0);
    printf("amomax.d %ld amomin.d %ld amomaxu.d %lu\n", (long)maxSeen, (long)minSeen, (unsigned long)unsignedMax);
    printf("spin-locked counter %ld (expect %ld)\n", (long)guarded, total);
    printf("lr/sc.d %ld (expect %ld), lr/sc.w %d (expect %ld)\n", (long)lrscDouble, total, (int)lrscWord, 3 * total);
    return 0;
}
