/* Zfa (chapter "Zfa", version 1.0, of the RISC-V Unprivileged ISA manual): fli, fminm/fmaxm,
 * fround/froundnx in every rounding mode, fleq/fltq, fcvtmod.w.d, with the exception flags each
 * raises. Neither qemu-riscv64 7.2 nor binutils 2.40 knows Zfa (gcc 12 neither: the
 * instructions are spelled with .insn), so every expected value below is written from the
 * specification, and the program prints each result with "ok" when it is that value; the
 * expected output is this program's when every check passes.
 * rivet-fixture: no-qemu */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef uint64_t u64;

static int failures;
static u64 bits(double x) { u64 b; memcpy(&b, &x, 8); return b; }
static double from(u64 b) { double x; memcpy(&x, &b, 8); return x; }
static uint32_t bits32(float x) { uint32_t b; memcpy(&b, &x, 4); return b; }

static void clear_flags(void) { asm volatile("fsflags zero"); }
static unsigned flags(void) { unsigned f; asm volatile("frflags %0" : "=r"(f)); return f; }
enum { NX = 1, NV = 16 };

static void check(const char *what, u64 got, unsigned got_flags, u64 want, unsigned want_flags) {
    int ok = got == want && got_flags == want_flags;
    printf("%-40s %016lx flags %02x %s\n", what, got, got_flags, ok ? "ok" : "WRONG");
    if (!ok) {
        printf("  want %016lx flags %02x\n", want, want_flags);
        failures++;
    }
}

/* A double in an FP register, read back as bits (fmv.x.d keeps a NaN-boxed single intact). */
#define FREG_BITS(reg) ({ u64 _b; asm volatile("fmv.x.d %0, " reg : "=r"(_b)); _b; })

/* fround.d / froundnx.d with a static rounding mode (funct3), rs2 = 4 / 5. */
#define ROUND_D(name, rm, rs2) \
    static u64 name(u64 a) { double r; asm volatile(".insn r 0x53, " #rm ", 0x21, %0, %1, x" #rs2 : "=f"(r) : "f"(from(a))); return bits(r); }
ROUND_D(fround_rne, 0, 4) ROUND_D(fround_rtz, 1, 4) ROUND_D(fround_rdn, 2, 4) ROUND_D(fround_rup, 3, 4)
ROUND_D(fround_rmm, 4, 4) ROUND_D(fround_dyn, 7, 4)
ROUND_D(froundnx_rne, 0, 5) ROUND_D(froundnx_rtz, 1, 5) ROUND_D(froundnx_rdn, 2, 5) ROUND_D(froundnx_rup, 3, 5)
ROUND_D(froundnx_rmm, 4, 5) ROUND_D(froundnx_dyn, 7, 5)

static u64 (*const fround_d[6])(u64) = {fround_rne, fround_rtz, fround_rdn, fround_rup, fround_rmm, fround_dyn};
static u64 (*const froundnx_d[6])(u64) = {froundnx_rne, froundnx_rtz, froundnx_rdn, froundnx_rup, froundnx_rmm, froundnx_dyn};
static const char *const modes[6] = {"rne", "rtz", "rdn", "rup", "rmm", "dyn=rup"};

static const u64 qnan = 0x7ff8000000000123ull, snan = 0x7ff4000000000000ull, cnan = 0x7ff8000000000000ull;

static void round_double(void) {
    /* input, then the result in rne, rtz, rdn, rup, rmm (and dyn with frm = rup). */
    static const double table[][6] = {
        {2.5, 2, 2, 2, 3, 3},
        {-2.5, -2, -2, -3, -2, -3},
        {0.3, 0.0, 0.0, 0.0, 1, 0.0},
        {-0.3, -0.0, -0.0, -1, -0.0, -0.0},
        {0.5, 0.0, 0.0, 0.0, 1, 1},
        {1.5, 2, 1, 1, 2, 2},
        {4503599627370495.5, 4503599627370496.0, 4503599627370495.0, 4503599627370495.0, 4503599627370496.0, 4503599627370496.0},
        {-0.0, -0.0, -0.0, -0.0, -0.0, -0.0},
        {INFINITY, INFINITY, INFINITY, INFINITY, INFINITY, INFINITY},
        {0x1p-1074, 0.0, 0.0, 0.0, 1, 0.0},
        {1e300, 1e300, 1e300, 1e300, 1e300, 1e300},
        {-7.75, -8, -7, -8, -7, -8},
    };
    asm volatile("fsrm %0" : : "r"(3));  /* dyn = rup */
    char what[64];
    for (unsigned k = 0; k < sizeof table / sizeof table[0]; k++)
        for (int m = 0; m < 6; m++) {
            double want = table[k][m == 5 ? 4 : m + 1];
            u64 in = bits(table[k][0]);
            int inexact = bits(want) != in;
            snprintf(what, sizeof what, "fround.d %g %s", table[k][0], modes[m]);
            clear_flags();
            u64 r = fround_d[m](in);
            check(what, r, flags(), bits(want), 0);
            snprintf(what, sizeof what, "froundnx.d %g %s", table[k][0], modes[m]);
            clear_flags();
            r = froundnx_d[m](in);
            check(what, r, flags(), bits(want), inexact ? NX : 0);
        }
    clear_flags();
    check("fround.d qNaN", fround_rne(qnan), flags(), cnan, 0);
    clear_flags();
    check("froundnx.d qNaN", froundnx_rne(qnan), flags(), cnan, 0);
    clear_flags();
    check("fround.d sNaN", fround_rtz(snan), flags(), cnan, NV);
    asm volatile("fsrm %0" : : "r"(0));
}

#define ROUND_S(name, rm, rs2) \
    static u64 name(u64 a) { double r; asm volatile(".insn r 0x53, " #rm ", 0x20, %0, %1, x" #rs2 : "=f"(r) : "f"(from(a))); return bits(r); }
ROUND_S(fround_s_rne, 0, 4) ROUND_S(fround_s_rup, 3, 4) ROUND_S(froundnx_s_rdn, 2, 5) ROUND_S(froundnx_s_rmm, 4, 5)
static u64 box(float x) { return 0xffffffff00000000ull | bits32(x); }

static void round_single(void) {
    clear_flags();
    check("fround.s 2.5 rne", fround_s_rne(box(2.5f)), flags(), box(2.0f), 0);
    clear_flags();
    check("fround.s -0.3 rup", fround_s_rup(box(-0.3f)), flags(), box(-0.0f), 0);
    clear_flags();
    check("froundnx.s -0.3 rdn", froundnx_s_rdn(box(-0.3f)), flags(), box(-1.0f), NX);
    clear_flags();
    check("froundnx.s 8388607.5 rmm", froundnx_s_rmm(box(8388607.5f)), flags(), box(8388608.0f), NX);
    clear_flags();
    check("froundnx.s 1e30 rmm", froundnx_s_rmm(box(1e30f)), flags(), box(1e30f), 0);
    clear_flags();
    check("fround.s sNaN", fround_s_rne(0xffffffff7fa00000ull), flags(), 0xffffffff7fc00000ull, NV);
    /* Not NaN-boxed: reads as the canonical NaN, which is quiet. */
    clear_flags();
    check("fround.s unboxed 2.5", fround_s_rne(bits32(2.5f)), flags(), 0xffffffff7fc00000ull, 0);
}

/* fminm/fmaxm: funct7 0x15 (.d) / 0x14 (.s), funct3 2 / 3. fleq/fltq: funct7 0x51 / 0x50,
 * funct3 4 / 5. */
static u64 fminm_d(u64 a, u64 b) { double r; asm volatile(".insn r 0x53, 2, 0x15, %0, %1, %2" : "=f"(r) : "f"(from(a)), "f"(from(b))); return bits(r); }
static u64 fmaxm_d(u64 a, u64 b) { double r; asm volatile(".insn r 0x53, 3, 0x15, %0, %1, %2" : "=f"(r) : "f"(from(a)), "f"(from(b))); return bits(r); }
static u64 fminm_s(u64 a, u64 b) { double r; asm volatile(".insn r 0x53, 2, 0x14, %0, %1, %2" : "=f"(r) : "f"(from(a)), "f"(from(b))); return bits(r); }
static u64 fmaxm_s(u64 a, u64 b) { double r; asm volatile(".insn r 0x53, 3, 0x14, %0, %1, %2" : "=f"(r) : "f"(from(a)), "f"(from(b))); return bits(r); }
static u64 fleq_d(u64 a, u64 b) { u64 r; asm volatile(".insn r 0x53, 4, 0x51, %0, %1, %2" : "=r"(r) : "f"(from(a)), "f"(from(b))); return r; }
static u64 fltq_d(u64 a, u64 b) { u64 r; asm volatile(".insn r 0x53, 5, 0x51, %0, %1, %2" : "=r"(r) : "f"(from(a)), "f"(from(b))); return r; }
static u64 fleq_s(u64 a, u64 b) { u64 r; asm volatile(".insn r 0x53, 4, 0x50, %0, %1, %2" : "=r"(r) : "f"(from(a)), "f"(from(b))); return r; }
static u64 fltq_s(u64 a, u64 b) { u64 r; asm volatile(".insn r 0x53, 5, 0x50, %0, %1, %2" : "=r"(r) : "f"(from(a)), "f"(from(b))); return r; }

static void min_max_compare(void) {
    static const struct { double a, b; } pairs[] = {{1, 2}, {2, 1}, {-0.0, 0.0}, {0.0, -0.0}, {-INFINITY, 3}, {2, 2}};
    char what[64];
    for (unsigned k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
        double a = pairs[k].a, b = pairs[k].b;
        /* -0 is less than +0 for minimum and maximum, equal for the comparisons. */
        int less = a < b || (a == 0 && b == 0 && signbit(a) && !signbit(b));
        snprintf(what, sizeof what, "fminm.d %g %g", a, b);
        clear_flags();
        check(what, fminm_d(bits(a), bits(b)), flags(), less ? bits(a) : bits(b), 0);
        snprintf(what, sizeof what, "fmaxm.d %g %g", a, b);
        clear_flags();
        check(what, fmaxm_d(bits(a), bits(b)), flags(), less ? bits(b) : bits(a), 0);
        snprintf(what, sizeof what, "fltq.d %g %g", a, b);
        clear_flags();
        check(what, fltq_d(bits(a), bits(b)), flags(), a < b, 0);
        snprintf(what, sizeof what, "fleq.d %g %g", a, b);
        clear_flags();
        check(what, fleq_d(bits(a), bits(b)), flags(), a <= b, 0);
        snprintf(what, sizeof what, "fminm.s %g %g", a, b);
        clear_flags();
        check(what, fminm_s(box((float)a), box((float)b)), flags(), less ? box((float)a) : box((float)b), 0);
        snprintf(what, sizeof what, "fltq.s %g %g", a, b);
        clear_flags();
        check(what, fltq_s(box((float)a), box((float)b)), flags(), a < b, 0);
    }
    /* NaNs: the canonical NaN out, NV only for a signaling one; quiet comparisons false. */
    clear_flags();
    check("fminm.d qNaN 1", fminm_d(qnan, bits(1)), flags(), cnan, 0);
    clear_flags();
    check("fmaxm.d 1 qNaN", fmaxm_d(bits(1), qnan), flags(), cnan, 0);
    clear_flags();
    check("fmaxm.d sNaN 1", fmaxm_d(snan, bits(1)), flags(), cnan, NV);
    clear_flags();
    check("fmaxm.s qNaN 1", fmaxm_s(0xffffffff7fc00001ull, box(1)), flags(), 0xffffffff7fc00000ull, 0);
    clear_flags();
    check("fltq.d qNaN 1", fltq_d(qnan, bits(1)), flags(), 0, 0);
    clear_flags();
    check("fleq.d 1 qNaN", fleq_d(bits(1), qnan), flags(), 0, 0);
    clear_flags();
    check("fleq.d sNaN 1", fleq_d(snan, bits(1)), flags(), 0, NV);
    clear_flags();
    check("fleq.s 1 sNaN", fleq_s(box(1), 0xffffffff7fa00000ull), flags(), 0, NV);
    clear_flags();
    check("fleq.s 2 2", fleq_s(box(2), box(2)), flags(), 1, 0);
}

static u64 fcvtmod(u64 a) { u64 r; asm volatile(".insn r 0x53, 1, 0x61, %0, %1, x8" : "=r"(r) : "f"(from(a))); return r; }

static void modular(void) {
    static const struct { double in; int64_t want; unsigned flags; } table[] = {
        {1.9, 1, NX}, {-1.9, -1, NX}, {0.5, 0, NX}, {-0.0, 0, 0}, {2147483647.5, 2147483647, NX},
        {-2147483648.0, -2147483648LL, 0}, {-2147483648.5, -2147483648LL, NX},
        {2147483648.0, -2147483648LL, NV}, {4294967301.0, 5, NV}, {-4294967303.5, -7, NV},
        {4294967295.9, -1, NV}, {1e20, 1661992960, NV}, {0x3p60, 0, NV},
        {INFINITY, 0, NV}, {-INFINITY, 0, NV},
    };
    char what[64];
    for (unsigned k = 0; k < sizeof table / sizeof table[0]; k++) {
        snprintf(what, sizeof what, "fcvtmod.w.d %.17g", table[k].in);
        clear_flags();
        check(what, fcvtmod(bits(table[k].in)), flags(), (u64)table[k].want, table[k].flags);
    }
    clear_flags();
    check("fcvtmod.w.d qNaN", fcvtmod(qnan), flags(), 0, NV);
}

/* fli.s / fli.d fd, k: funct7 0x78 / 0x79, rs2 = 1, rs1 = k. */
#define FLI(k) \
    static u64 fli_s_##k(void) { double r; asm volatile(".insn r 0x53, 0, 0x78, %0, x" #k ", x1" : "=f"(r)); return bits(r); } \
    static u64 fli_d_##k(void) { double r; asm volatile(".insn r 0x53, 0, 0x79, %0, x" #k ", x1" : "=f"(r)); return bits(r); }
FLI(0) FLI(1) FLI(2) FLI(3) FLI(4) FLI(5) FLI(6) FLI(7) FLI(8) FLI(9) FLI(10) FLI(11) FLI(12) FLI(13) FLI(14) FLI(15)
FLI(16) FLI(17) FLI(18) FLI(19) FLI(20) FLI(21) FLI(22) FLI(23) FLI(24) FLI(25) FLI(26) FLI(27) FLI(28) FLI(29) FLI(30) FLI(31)
#define FLI_ROW(k) {fli_s_##k, fli_d_##k}
static u64 (*const fli[32][2])(void) = {
    FLI_ROW(0), FLI_ROW(1), FLI_ROW(2), FLI_ROW(3), FLI_ROW(4), FLI_ROW(5), FLI_ROW(6), FLI_ROW(7),
    FLI_ROW(8), FLI_ROW(9), FLI_ROW(10), FLI_ROW(11), FLI_ROW(12), FLI_ROW(13), FLI_ROW(14), FLI_ROW(15),
    FLI_ROW(16), FLI_ROW(17), FLI_ROW(18), FLI_ROW(19), FLI_ROW(20), FLI_ROW(21), FLI_ROW(22), FLI_ROW(23),
    FLI_ROW(24), FLI_ROW(25), FLI_ROW(26), FLI_ROW(27), FLI_ROW(28), FLI_ROW(29), FLI_ROW(30), FLI_ROW(31),
};

static void immediates(void) {
    /* The specification's table; entry 1 is the format's smallest normal, 31 the canonical NaN. */
    static const double values[32] = {
        -1.0, 0, 0x1p-16, 0x1p-15, 0x1p-8, 0x1p-7, 0.0625, 0.125, 0.25, 0.3125, 0.375, 0.4375, 0.5,
        0.625, 0.75, 0.875, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3, 4, 8, 16, 128, 256, 0x1p15, 0x1p16, INFINITY, 0,
    };
    char what[64];
    asm volatile("fsflags %0" : : "r"(0x1f));  /* fli changes no flag */
    for (int k = 0; k < 32; k++) {
        u64 want_s = k == 1 ? box(0x1p-126f) : k == 31 ? 0xffffffff7fc00000ull : box((float)values[k]);
        u64 want_d = k == 1 ? bits(0x1p-1022) : k == 31 ? cnan : bits(values[k]);
        snprintf(what, sizeof what, "fli.s %d", k);
        check(what, fli[k][0](), flags(), want_s, 0x1f);
        snprintf(what, sizeof what, "fli.d %d", k);
        check(what, fli[k][1](), flags(), want_d, 0x1f);
    }
    clear_flags();
}

int main(void) {
    for (int round = 0; round < 2; round++) {
        round_double();
        round_single();
        min_max_compare();
        modular();
        immediates();
        if (round == 0) printf("-- again --\n");
    }
    printf("%d wrong\n", failures);
    return failures != 0;
}
