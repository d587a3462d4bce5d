/* Random memory access: pointer chasing through one random cycle (Sattolo's shuffle) over
 * 1 Mi entries (4 MiB), and random read-modify-write updates of an 8 MiB table (GUPS-style): cache and
 * TLB misses, dependent loads. Size: millions of accesses. */
#include "bench.h"

#define CHAIN (1L * 1024 * 1024)
#define TABLE (1L * 1024 * 1024)

int main(int argc, char **argv) {
    long size = bench_size(argc, argv, 40);
    uint32_t *next = malloc(CHAIN * sizeof *next);
    uint64_t *table = malloc(TABLE * sizeof *table);
    if (!next || !table) { fprintf(stderr, "out of memory\n"); return 1; }
    uint64_t state = 0x1234567887654321ULL;
    for (long i = 0; i < CHAIN; i++) next[i] = (uint32_t)i;
    for (long i = CHAIN - 1; i > 0; i--) {              /* Sattolo: one cycle through all */
        long j = (long)(bench_next(&state) % (uint64_t)i);
        uint32_t t = next[i]; next[i] = next[j]; next[j] = t;
    }
    for (long i = 0; i < TABLE; i++) table[i] = (uint64_t)i;

    long accesses = size * 1000000L;
    uint32_t p = 0;
    uint64_t sum = 0;
    for (long i = 0; i < accesses / 2; i++) {
        p = next[p];
        sum += p;
    }
    uint64_t r = state;
    for (long i = 0; i < accesses / 2; i++) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t k = (r >> 33) & (TABLE - 1);
        table[k] ^= r;
    }
    for (long i = 0; i < TABLE; i += 4093) sum = bench_mix(sum, table[i]);
    bench_done("randmem", size, bench_mix(sum, p));
    free(next); free(table);
    return 0;
}
