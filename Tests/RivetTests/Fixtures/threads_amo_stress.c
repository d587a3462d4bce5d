/* The A extension under real contention: 4 threads, 200,000 rounds each, all on the same few
 * words. Every total is exact whatever the interleaving, so the output is deterministic:
 *   - __atomic_fetch_add on a 32-bit and a 64-bit counter (amoadd.w/.d.aqrl), and adds to two
 *     halfwords sharing one word through a masked lr.w/sc.w loop (as compilers emit for
 *     16-bit atomics: an SC must fail when the other halfword changed);
 *   - __atomic_fetch_or/xor/and (amoor/amoxor/amoand), whose results do not depend on order;
 *   - amomin.w/amomax.w (signed, negative values), amominu.d/amomaxu.d;
 *   - increments through explicit lr.w/sc.w and lr.d/sc.d retry loops, and through
 *     __atomic_compare_exchange_n (GCC's lr/sc compare-and-swap);
 *   - a plain, non-atomic counter guarded by a spin lock taken with amoswap.w.aq and given back
 *     with a release store (fence rw,w; sw zero: RV64GC has no sw.rl).
 * The fixture tests also run it with a 16 KiB code cache, so that its blocks are evicted and
 * compiled again while other threads run them. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#define THREADS 4
#define ROUNDS 200000

static int32_t add32;
static int64_t add64;
static uint32_t halves;
static uint64_t orBits, xorBits, andBits = ~0ull;
static int32_t min32 = 1 << 30, max32 = -(1 << 30);
static uint64_t minu64 = ~0ull, maxu64;
static int32_t lrsc32;
static int64_t lrsc64, cas64;
static int32_t lock;
static int64_t guarded;

static uint64_t mix(uint64_t x) {
    x ^= x >> 31;
    x *= 0x9e3779b97f4a7c15ull;
    return x ^ (x >> 29);
}

/* Adds 1 to the halfword of `word` at `shift` (0 or 16), leaving the other halfword alone. */
static void addHalfword(uint32_t *word, int shift) {
    uint32_t old, merged, failed;
    __asm__ volatile("1:\tlr.w %0, (%3)\n"
                     "\taddw %1, %0, %4\n"
                     "\txor %1, %1, %0\n"
                     "\tand %1, %1, %5\n"
                     "\txor %1, %1, %0\n"
                     "\tsc.w %2, %1, (%3)\n"
                     "\tbnez %2, 1b"
                     : "=&r"(old), "=&r"(merged), "=&r"(failed)
                     : "r"(word), "r"(1u << shift), "r"(0xffffu << shift)
                     : "memory");
}

static void *hammer(void *argument) {
    long id = (long)argument;
    for (long i = 0; i < ROUNDS; i++) {
        __atomic_fetch_add(&add32, 3, __ATOMIC_SEQ_CST);
        __atomic_fetch_add(&add64, 0x100000001ll, __ATOMIC_SEQ_CST);
        addHalfword(&halves, id & 1 ? 16 : 0);
        __atomic_fetch_or(&orBits, 1ull << ((i * 7 + id) % 64), __ATOMIC_RELAXED);
        __atomic_fetch_xor(&xorBits, mix((uint64_t)(id * ROUNDS + i)), __ATOMIC_RELAXED);
        if (i % 1000 == 0) __atomic_fetch_and(&andBits, ~(1ull << ((i / 1000 * 2 + id * 16) % 64)), __ATOMIC_RELAXED);

        int32_t signedValue = (int32_t)(mix((uint64_t)(id * ROUNDS + i)) % 2000001) - 1000000;
        uint64_t unsignedValue = mix((uint64_t)(i * THREADS + id + 1));
        __asm__ volatile("amomin.w zero, %1, (%0)" : : "r"(&min32), "r"(signedValue) : "memory");
        __asm__ volatile("amomax.w zero, %1, (%0)" : : "r"(&max32), "r"(signedValue) : "memory");
        __asm__ volatile("amominu.d zero, %1, (%0)" : : "r"(&minu64), "r"(unsignedValue) : "memory");
        __asm__ volatile("amomaxu.d zero, %1, (%0)" : : "r"(&maxu64), "r"(unsignedValue) : "memory");

        int32_t small, failed;
        do {
            __asm__ volatile("lr.w %0, (%2)\n\taddiw %0, %0, 1\n\tsc.w %1, %0, (%2)"
                             : "=&r"(small), "=&r"(failed) : "r"(&lrsc32) : "memory");
        } while (failed);
        int64_t large;
        do {
            __asm__ volatile("lr.d.aq %0, (%2)\n\taddi %0, %0, 5\n\tsc.d.rl %1, %0, (%2)"
                             : "=&r"(large), "=&r"(failed) : "r"(&lrsc64) : "memory");
        } while (failed);
        int64_t seen = __atomic_load_n(&cas64, __ATOMIC_RELAXED);
        while (!__atomic_compare_exchange_n(&cas64, &seen, seen + 2, 1, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
        }

        int32_t taken;
        do {
            __asm__ volatile("amoswap.w.aq %0, %2, (%1)" : "=r"(taken) : "r"(&lock), "r"(1) : "memory");
        } while (taken != 0);
        guarded = guarded + 1;
        __asm__ volatile("fence rw, w\n\tsw zero, (%0)" : : "r"(&lock) : "memory");
    }
    return NULL;
}

int main(void) {
    pthread_t threads[THREADS];
    for (long i = 0; i < THREADS; i++) pthread_create(&threads[i], NULL, hammer, (void *)i);
    for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);

    /* What every total must be, computed here one thread at a time. */
    long total = (long)THREADS * ROUNDS;
    uint64_t expectXor = 0, expectOr = 0, expectAnd = ~0ull, expectMinu = ~0ull, expectMaxu = 0;
    int32_t expectMin = 1 << 30, expectMax = -(1 << 30);
    for (long id = 0; id < THREADS; id++) {
        for (long i = 0; i < ROUNDS; i++) {
            expectOr |= 1ull << ((i * 7 + id) % 64);
            expectXor ^= mix((uint64_t)(id * ROUNDS + i));
            if (i % 1000 == 0) expectAnd &= ~(1ull << ((i / 1000 * 2 + id * 16) % 64));
            int32_t s = (int32_t)(mix((uint64_t)(id * ROUNDS + i)) % 2000001) - 1000000;
            uint64_t u = mix((uint64_t)(i * THREADS + id + 1));
            if (s < expectMin) expectMin = s;
            if (s > expectMax) expectMax = s;
            if (u < expectMinu) expectMinu = u;
            if (u > expectMaxu) expectMaxu = u;
        }
    }
    printf("amoadd.w %d (expect %ld)\n", add32, 3 * total);
    printf("amoadd.d %lx (expect %lx)\n", (unsigned long)add64, (unsigned long)(0x100000001l * total));
    printf("halfwords %u %u (expect %ld %ld)\n", halves & 0xffff, halves >> 16, (total / 2) % 65536, (total / 2) % 65536);
    printf("amoor.d %016lx (expect %016lx)\n", (unsigned long)orBits, (unsigned long)expectOr);
    printf("amoxor.d %016lx (expect %016lx)\n", (unsigned long)xorBits, (unsigned long)expectXor);
    printf("amoand.d %016lx (expect %016lx)\n", (unsigned long)andBits, (unsigned long)expectAnd);
    printf("amomin.w %d amomax.w %d (expect %d %d)\n", min32, max32, expectMin, expectMax);
    printf("amominu.d %016lx amomaxu.d %016lx (expect %016lx %016lx)\n", (unsigned long)minu64,
           (unsigned long)maxu64, (unsigned long)expectMinu, (unsigned long)expectMaxu);
    printf("lr/sc.w %d (expect %ld)\n", lrsc32, total);
    printf("lr/sc.d %ld (expect %ld)\n", (long)lrsc64, 5 * total);
    printf("compare-and-swap %ld (expect %ld)\n", (long)cas64, 2 * total);
    printf("spin-locked counter %ld (expect %ld)\n", (long)guarded, total);
    return 0;
}
