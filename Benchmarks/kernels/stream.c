/* Memory streaming: STREAM-style copy, scale, add and triad over 64-bit integer arrays much
 * larger than the caches (sequential loads and stores, little arithmetic).
 * Size: passes over the arrays. */
#include "bench.h"

#define ELEMENTS (2L * 1024 * 1024)   /* 16 MiB per array, 48 MiB in all */

static NOINLINE void copy(uint64_t *restrict dst, const uint64_t *restrict src) {
    for (long i = 0; i < ELEMENTS; i++) dst[i] = src[i];
}

static NOINLINE void scale(uint64_t *restrict dst, const uint64_t *restrict src, uint64_t k) {
    for (long i = 0; i < ELEMENTS; i++) dst[i] = k * src[i];
}

static NOINLINE void add(uint64_t *restrict dst, const uint64_t *restrict x, const uint64_t *restrict y) {
    for (long i = 0; i < ELEMENTS; i++) dst[i] = x[i] + y[i];
}

static NOINLINE void triad(uint64_t *restrict dst, const uint64_t *restrict x, const uint64_t *restrict y, uint64_t k) {
    for (long i = 0; i < ELEMENTS; i++) dst[i] = x[i] + k * y[i];
}

static NOINLINE uint64_t sum_of(const uint64_t *a) {
    uint64_t s = 0;
    for (long i = 0; i < ELEMENTS; i++) s += a[i] ^ (uint64_t)i;
    return s;
}

int main(int argc, char **argv) {
    long size = bench_size(argc, argv, 60);
    uint64_t *a = malloc(ELEMENTS * sizeof *a);
    uint64_t *b = malloc(ELEMENTS * sizeof *b);
    uint64_t *c = malloc(ELEMENTS * sizeof *c);
    if (!a || !b || !c) { fprintf(stderr, "out of memory\n"); return 1; }
    for (long i = 0; i < ELEMENTS; i++) { a[i] = (uint64_t)i * 3; b[i] = 1; c[i] = (uint64_t)i ^ 0x5555; }
    uint64_t sum = 0;
    for (long pass = 0; pass < size; pass++) {
        copy(c, a);
        scale(b, c, 3 + (uint64_t)pass);
        add(c, a, b);
        triad(a, b, c, 7);
        sum = bench_mix(sum, a[(pass * 7919) % ELEMENTS]);
    }
    sum = bench_mix(sum, sum_of(a));
    sum = bench_mix(sum, sum_of(c));
    bench_done("stream", size, sum);
    free(a); free(b); free(c);
    return 0;
}
