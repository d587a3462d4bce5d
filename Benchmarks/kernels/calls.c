/* Calls and returns: tree recursion (fib), mutual recursion, a chain of small non-inlined
 * functions and calls through a table of function pointers (indirect calls, return-address
 * prediction, stack traffic). Size: the workload repeats this many times. */
#include "bench.h"

static NOINLINE uint64_t fib(uint32_t n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static NOINLINE uint64_t is_odd(uint32_t n);
static NOINLINE uint64_t is_even(uint32_t n) { return n == 0 ? 1 : is_odd(n - 1); }
static NOINLINE uint64_t is_odd(uint32_t n) { return n == 0 ? 0 : is_even(n - 1); }

static NOINLINE uint64_t f3(uint64_t x) { return x * 3 + 1; }
static NOINLINE uint64_t f2(uint64_t x) { return f3(x ^ 0x55) + 2; }
static NOINLINE uint64_t f1(uint64_t x) { return f2(x >> 1) + f3(x); }
static NOINLINE uint64_t f0(uint64_t x) { return f1(x + 7) ^ f2(x); }

static NOINLINE uint64_t op_add(uint64_t a, uint64_t b) { return a + b; }
static NOINLINE uint64_t op_xor(uint64_t a, uint64_t b) { return a ^ b; }
static NOINLINE uint64_t op_mul(uint64_t a, uint64_t b) { return a * (b | 1); }
static NOINLINE uint64_t op_rot(uint64_t a, uint64_t b) { return (a << (b & 63)) | (a >> ((64 - b) & 63)); }
static uint64_t (*const ops[4])(uint64_t, uint64_t) = {op_add, op_xor, op_mul, op_rot};

int main(int argc, char **argv) {
    long size = bench_size(argc, argv, 180);
    uint64_t sum = 0, state = 42;
    for (long round = 0; round < size; round++) {
        sum = bench_mix(sum, fib(24 + (uint32_t)(round & 1)));
        sum += is_even(5000 + (uint32_t)round);
        for (uint64_t i = 0; i < 20000; i++) sum = f0(sum + i);
        for (int i = 0; i < 40000; i++) {
            uint64_t r = bench_next(&state);
            sum = ops[r & 3](sum, r >> 8);
        }
    }
    bench_done("calls", size, sum);
    return 0;
}
