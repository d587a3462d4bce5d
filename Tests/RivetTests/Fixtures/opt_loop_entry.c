/* Code that falls straight into a hot loop: `step`'s first instructions run on into the loop's
 * head with no branch between (a block that starts at the function runs through the loop's
 * first pass). Tier 2 compiles the loop; the baseline block that ran through its head must end
 * there, so that every call enters the region at the loop's head instead of running the first
 * pass in the baseline's code (with its float operations through SoftFloat). Every tier, and
 * qemu, must agree on the sums. (`runIntoARegionsHeaderEntersIt` checks the baseline block at
 * `step`'s entry.)
 * rivet-fixture: cflags -ffp-contract=off */
#include <stdint.h>
#include <stdio.h>

/* Two passes of four rounds of x = x * 1.0000001 + k; k += 0.5 (in doubles), from x and k;
 * x's bits. */
static __attribute__((noinline)) uint64_t step(double x, double k) {
    uint64_t out;
    __asm__ volatile(
        "li t0, 2\n"
        "fmv.d ft1, %[k]\n"
        "1:\n"
        "fmul.d ft3, %[x], %[m]\n"
        "fadd.d %[x], ft3, ft1\n"
        "fadd.d ft1, ft1, %[h]\n"
        "fmul.d ft3, %[x], %[m]\n"
        "fadd.d %[x], ft3, ft1\n"
        "fadd.d ft1, ft1, %[h]\n"
        "fmul.d ft3, %[x], %[m]\n"
        "fadd.d %[x], ft3, ft1\n"
        "fadd.d ft1, ft1, %[h]\n"
        "fmul.d ft3, %[x], %[m]\n"
        "fadd.d %[x], ft3, ft1\n"
        "fadd.d ft1, ft1, %[h]\n"
        "fsub.d ft2, ft1, %[x]\n"
        "addi t0, t0, -1\n"
        "bnez t0, 1b\n"
        "fmv.x.d %[out], %[x]\n"
        : [out] "=r"(out), [x] "+f"(x)
        : [k] "f"(k), [m] "f"(1.0000001), [h] "f"(0.5)
        : "t0", "ft1", "ft2", "ft3");
    return out;
}

/* Called through a pointer: an indirect call ends a region's walk, so the caller's loop does
 * not take `step` into its region, and `step`'s loop is a region of its own, entered per call. */
static uint64_t (*volatile call_step)(double, double) = step;

int main(void) {
    uint64_t sum = 0;
    for (int i = 0; i < 1000000; i++) sum = sum * 31 + call_step((double)i, (double)(i & 7));
    printf("sum %016llx\n", (unsigned long long)sum);
    return 0;
}
