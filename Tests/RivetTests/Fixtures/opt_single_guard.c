/* Singles carried round a hot loop, which tier 2 keeps in XMM registers as singles: its entry
 * guard checks that each such f register holds a NaN-box when the region is entered, and a
 * region entered with something else there is removed (the lower tiers run the loop). Here the
 * loop's accumulator first enters holding a double's bits (read as a single, it is the canonical
 * NaN: every sum stays NaN), then a proper single, then a double again; a second loop keeps one
 * single unwritten on half its passes. Every tier, and qemu, must agree on every bit.
 * rivet-fixture: cflags -ffp-contract=off */
#include <stdint.h>
#include <stdio.h>

/* ft0 := the 64 bits `start`; n times ft0 = ft0 + 1.0f (ft1 = ft0 * 0.5f on passes with an even
 * count left, so ft1 is written on some passes only); the 64-bit patterns of ft0 and ft1 after. */
static void run(uint64_t start, uint64_t other, long n, uint64_t out[2]) {
    uint64_t a, b;
    __asm__ volatile(
        "fmv.d.x ft0, %[start]\n"
        "fmv.d.x ft1, %[other]\n"
        "li t1, 0x3f800000\n"
        "fmv.w.x ft2, t1\n"
        "li t1, 0x3f000000\n"
        "fmv.w.x ft3, t1\n"
        "mv t2, %[n]\n"
        "1:\n"
        "fadd.s ft0, ft0, ft2\n"
        "andi t1, t2, 1\n"
        "bnez t1, 2f\n"
        "fmul.s ft1, ft0, ft3\n"
        "2:\n"
        "addi t2, t2, -1\n"
        "bnez t2, 1b\n"
        "fmv.x.d %[a], ft0\n"
        "fmv.x.d %[b], ft1\n"
        : [a] "=&r"(a), [b] "=&r"(b)
        : [start] "r"(start), [other] "r"(other), [n] "r"(n)
        : "t1", "t2", "ft0", "ft1", "ft2", "ft3", "memory");
    out[0] = a;
    out[1] = b;
}

int main(void) {
    const uint64_t double_one = 0x3ff0000000000000ull;   /* 1.0 as a double: no NaN-box */
    const uint64_t single_two = 0xffffffff40000000ull;   /* 2.0f, NaN-boxed */
    const uint64_t stray = 0x00000000deadbeefull;        /* neither */
    uint64_t starts[][2] = {
        {double_one, single_two}, {single_two, single_two}, {single_two, stray},
        {double_one, double_one}, {single_two, single_two}, {stray, single_two},
    };
    for (int round = 0; round < 3; round++) {
        for (unsigned k = 0; k < sizeof starts / sizeof starts[0]; k++) {
            uint64_t out[2];
            run(starts[k][0], starts[k][1], 300000 + (long)k, out);
            printf("round %d start %u: ft0 %016llx ft1 %016llx\n", round, k, (unsigned long long)out[0],
                   (unsigned long long)out[1]);
        }
        uint64_t out[2];
        run(single_two, stray, 1, out); /* one pass, with 1 left: ft1 keeps its bits */
        printf("round %d short: ft0 %016llx ft1 %016llx\n", round, (unsigned long long)out[0], (unsigned long long)out[1]);
        run(single_two, stray, 2, out); /* ft1 written on the first pass only */
        printf("round %d even: ft0 %016llx ft1 %016llx\n", round, (unsigned long long)out[0], (unsigned long long)out[1]);
    }
    return 0;
}
