/* C's quiet comparisons (isless, islessequal, isgreater, isunordered) and the errno check before
 * sqrt, in hot loops: GCC brackets the compare with frflags and fsflags, so that it raises no
 * flag (tier 2 makes it one compare that raises none). Over doubles and singles with quiet and
 * signaling NaNs, infinities, signed zeros and ordinary values, with flags raised in the same
 * loop by divisions (inexact, divide by zero, invalid) that must survive the bracket, the flags
 * printed after each loop; then an ordinary (signaling) compare of a NaN, which raises invalid. */
#include <fenv.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static double from64(uint64_t bits) { double d; memcpy(&d, &bits, 8); return d; }
static float from32(uint32_t bits) { float f; memcpy(&f, &bits, 4); return f; }

static void flags(const char *what) {
    int f = fetestexcept(FE_ALL_EXCEPT);
    printf("%-28s NV %d DZ %d OF %d UF %d NX %d\n", what, !!(f & FE_INVALID), !!(f & FE_DIVBYZERO),
           !!(f & FE_OVERFLOW), !!(f & FE_UNDERFLOW), !!(f & FE_INEXACT));
}

#define N 8
static volatile double dv[N];
static volatile float fv[N];

int main(void) {
    const uint64_t d[N] = {0x3ff0000000000000ull, 0x4000000000000000ull, 0x7ff8000000000000ull, 0x7ff0000000000001ull,
                           0x7ff0000000000000ull, 0x8000000000000000ull, 0x0000000000000000ull, 0xc008000000000000ull};
    const uint32_t s[N] = {0x3f800000u, 0x40000000u, 0x7fc00000u, 0x7f800001u, 0x7f800000u, 0x80000000u, 0u, 0xc0400000u};
    for (int k = 0; k < N; k++) { dv[k] = from64(d[k]); fv[k] = from32(s[k]); }

    /* Quiet compares only: no flag at all, whatever the operands. */
    feclearexcept(FE_ALL_EXCEPT);
    long counts[4] = {0, 0, 0, 0};
    for (int round = 0; round < 3000; round++) {
        for (int i = 0; i < N; i++) {
            double a = dv[i], b = dv[(i + round) % N];
            counts[0] += isless(a, b);
            counts[1] += islessequal(a, b);
            counts[2] += isgreater(a, b) + isunordered(a, b);
            float x = fv[i], y = fv[(i + round) % N];
            counts[3] += isless(x, y) + isgreaterequal(x, y);
        }
    }
    printf("quiet compares %ld %ld %ld %ld\n", counts[0], counts[1], counts[2], counts[3]);
    flags("after quiet compares");

    /* Flags raised between them stay: 1/3 is inexact; 1/0 divides by zero only in some rounds. */
    feclearexcept(FE_ALL_EXCEPT);
    double sum = 0;
    for (int round = 0; round < 20000; round++) {
        double a = dv[round % N], b = dv[(round / N) % N];
        sum += isless(a, b) ? 1.0 / 3.0 * dv[0] : 0.5;
        if (round == 15000) sum += dv[0] / dv[6];
    }
    printf("sum %.6f\n", sum);
    flags("with divisions");

    /* sqrt with errno: negative arguments set invalid (the library's sqrt), others not. */
    feclearexcept(FE_ALL_EXCEPT);
    double roots = 0;
    for (int round = 0; round < 20000; round++) roots += sqrt(dv[round % 2] + round);
    printf("roots %.6f\n", roots);
    flags("square roots");
    feclearexcept(FE_ALL_EXCEPT);
    double negative = 0;
    for (int round = 0; round < 20000; round++) {
        double r = sqrt(dv[7] + (round % 5 == 0 ? 0 : 4));
        negative += r == r ? r : 1;
    }
    printf("negative roots %.6f\n", negative);
    flags("square roots of negatives");

    /* A signaling compare of a quiet NaN raises invalid. */
    feclearexcept(FE_ALL_EXCEPT);
    volatile int less = dv[2] < dv[0];
    printf("NaN < 1: %d\n", less);
    flags("signaling compare");
    return 0;
}
