/* Shared helpers for the benchmark kernels.
 *
 * Every kernel takes one optional argument, a size (its meaning is the kernel's own), and prints
 * one line `NAME size=N checksum=0x...`. The same source is built for riscv64 and for the host,
 * so the line must be the same on both: no libm transcendental functions (their last bits differ
 * between libm ports), FP contraction off (riscv64 would fuse into fmadd), and 64-bit integer
 * types with explicit sizes.
 */
#ifndef RIVET_BENCH_H
#define RIVET_BENCH_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

/* The size argument, or `fallback` when there is none. */
static inline long bench_size(int argc, char **argv, long fallback) {
    if (argc < 2) return fallback;
    long value = strtol(argv[1], NULL, 10);
    if (value <= 0) {
        fprintf(stderr, "size must be a positive integer, got '%s'\n", argv[1]);
        exit(2);
    }
    return value;
}

/* Mixes `value` into `hash` (FNV-1a over the 8 bytes, then a final avalanche in bench_done). */
static inline uint64_t bench_mix(uint64_t hash, uint64_t value) {
    for (int i = 0; i < 8; i++) {
        hash ^= (value >> (8 * i)) & 0xff;
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

static inline uint64_t bench_double_bits(double value) {
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    return bits;
}

static inline uint32_t bench_float_bits(float value) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    return bits;
}

/* A small deterministic generator (xorshift64*), the same on every host. */
static inline uint64_t bench_next(uint64_t *state) {
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dULL;
}

static inline void bench_done(const char *name, long size, uint64_t checksum) {
    printf("%s size=%ld checksum=0x%016" PRIx64 "\n", name, size, checksum);
}

#endif
