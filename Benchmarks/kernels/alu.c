/* Integer ALU and branches: Collatz trajectories (data-dependent branches, shifts, adds),
 * Euclid's gcd (division and remainder), and bit twiddling (popcount, rotates, 32-bit ops).
 * Size: how many starting numbers. */
#include "bench.h"

static NOINLINE uint64_t collatz_steps(uint64_t n) {
    uint64_t steps = 0;
    while (n != 1) {
        if (n & 1) n = 3 * n + 1; else n >>= 1;
        steps++;
    }
    return steps;
}

static NOINLINE uint64_t gcd(uint64_t a, uint64_t b) {
    while (b != 0) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static NOINLINE uint32_t twiddle(uint32_t x) {
    uint32_t bits = 0;
    for (uint32_t v = x; v != 0; v &= v - 1) bits++;          /* popcount by clearing bits */
    uint32_t rotated = (x << 7) | (x >> 25);
    int32_t sign = (int32_t)(x ^ rotated) >> 3;                 /* arithmetic shift */
    return bits + (uint32_t)sign + (x < rotated ? 17u : 5u);
}

int main(int argc, char **argv) {
    long size = bench_size(argc, argv, 1500000);
    uint64_t sum = 0, state = 0x9e3779b97f4a7c15ULL;
    for (long i = 1; i <= size; i++) {
        sum += collatz_steps((uint64_t)i);
        uint64_t r = bench_next(&state);
        sum ^= gcd(r >> 20 | 1, (uint64_t)i * 2654435761u) << 1;
        sum += twiddle((uint32_t)r);
        if ((int64_t)sum < 0) sum = (sum << 1) | 1; else sum = sum * 3 + (uint64_t)i;
    }
    bench_done("alu", size, sum);
    return 0;
}
