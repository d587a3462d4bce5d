/* F and D edge cases, every result printed as raw bits with the fflags it raised:
 * the canonical NaN (no payload propagation), NaN boxing (fmv.w.x then fmv.x.d, improperly
 * boxed inputs reading as the canonical NaN, fmv.x.w and fsw ignoring the box), fmin/fmax with
 * NaNs and signed zeros, every rounding mode both static and dynamic (frm) and through
 * fesetround, float-to-int saturation and NaN, fclass of each class, fused multiply-add (single
 * rounding, signs, inf*0 + NaN), sqrt of negatives, division by zero, overflow and underflow,
 * quiet and signaling comparisons, and int/float conversions. */
#include <fenv.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>

typedef uint64_t u64;

/* Bit patterns. Singles are written NaN-boxed, as they sit in an FP register. */
#define BOX(x) (0xffffffff00000000ull | (uint32_t)(x))
#define D_QNAN 0x7ff8000000000000ull
#define D_QNAN_PAYLOAD 0x7ff800000000abcdull
#define D_NEG_QNAN 0xfff8000000000000ull
#define D_SNAN 0x7ff0000000000001ull
#define D_INF 0x7ff0000000000000ull
#define D_NINF 0xfff0000000000000ull
#define D_ZERO 0x0000000000000000ull
#define D_NZERO 0x8000000000000000ull
#define D_ONE 0x3ff0000000000000ull
#define D_NONE 0xbff0000000000000ull
#define D_TWO 0x4000000000000000ull
#define D_THREE 0x4008000000000000ull
#define D_MAX 0x7fefffffffffffffull
#define D_MIN_NORMAL 0x0010000000000000ull
#define D_MIN_SUB 0x0000000000000001ull
#define D_NSUB 0x800fffffffffffffull
#define S_QNAN BOX(0x7fc00000)
#define S_QNAN_PAYLOAD BOX(0x7fc01234)
#define S_SNAN BOX(0x7f800001)
#define S_INF BOX(0x7f800000)
#define S_NINF BOX(0xff800000)
#define S_ZERO BOX(0x00000000)
#define S_NZERO BOX(0x80000000)
#define S_ONE BOX(0x3f800000)
#define S_NONE BOX(0xbf800000)
#define S_TWO BOX(0x40000000)
#define S_THREE BOX(0x40400000)
#define S_MAX BOX(0x7f7fffff)
#define S_MIN_NORMAL BOX(0x00800000)
#define S_MIN_SUB BOX(0x00000001)

static u64 bits_d(double x) { union { double d; u64 u; } v = {.d = x}; return v.u; }
static u64 bits_s(float x) { union { float f; uint32_t u; } v = {.f = x}; return BOX(v.u); }

/* Reads and clears fflags, after `after` is computed (so compiled FP code cannot move past it). */
static u64 take_flags(u64 after) {
    u64 f;
    asm volatile("csrrw %0, fflags, zero" : "=r"(f) : "r"(after));
    return f;
}
static void set_frm(u64 rm) { asm volatile("fsrm %0" : : "r"(rm)); }

static void show(const char *name, u64 result) {
    u64 flags = take_flags(result);
    printf("%-36s %016lx fl=%02lx\n", name, result, flags);
}

/* An FP op on ft0, ft1, ft2 (loaded with raw bits) writing ft3, whose raw bits are returned.
 * Integer sources may be named as %1, %2 in `op`. */
#define FF(op, a, b, c) ({ u64 _r; asm volatile(                                   \
        "fmv.d.x ft0, %1\n\tfmv.d.x ft1, %2\n\tfmv.d.x ft2, %3\n\t" op "\n\tfmv.x.d %0, ft3" \
        : "=r"(_r) : "r"((u64)(a)), "r"((u64)(b)), "r"((u64)(c)) : "ft0", "ft1", "ft2", "ft3"); _r; })
/* An FP op on ft0, ft1 writing the integer register %0. */
#define FX(op, a, b) ({ u64 _r; asm volatile(                                      \
        "fmv.d.x ft0, %1\n\tfmv.d.x ft1, %2\n\t" op                                 \
        : "=r"(_r) : "r"((u64)(a)), "r"((u64)(b)) : "ft0", "ft1"); _r; })

#define T2(op, a, b) show(op " " #a "," #b, FF(op " ft3, ft0, ft1", a, b, 0))
#define T1(op, a) show(op " " #a, FF(op " ft3, ft0", a, 0, 0))
#define T3(op, a, b, c) show(op " " #a "," #b "," #c, FF(op " ft3, ft0, ft1, ft2", a, b, c))
#define TX1(op, a) show(op " " #a, FX(op " %0, ft0", a, 0))
#define TX2(op, a, b) show(op " " #a "," #b, FX(op " %0, ft0, ft1", a, b))
#define TI(op, x) show(op " " #x, FF(op " ft3, %1", x, 0, 0))
/* A float-to-integer conversion toward zero (C's casts): saturation, NaN, exact limits. */
#define TXR(op, a) show(op " rtz " #a, FX(op " %0, ft0, rtz", a, 0))

/* The op in every static rounding mode, then with rm = dyn under every frm. */
#define ALLRM_F(label, op, a, b, c)                                                    \
    do {                                                                               \
        show(label " rne", FF(op ", rne", a, b, c));                                   \
        show(label " rtz", FF(op ", rtz", a, b, c));                                   \
        show(label " rdn", FF(op ", rdn", a, b, c));                                   \
        show(label " rup", FF(op ", rup", a, b, c));                                   \
        show(label " rmm", FF(op ", rmm", a, b, c));                                   \
        for (int m = 0; m < 5; m++) {                                                  \
            char name[64];                                                             \
            snprintf(name, sizeof name, label " dyn frm=%d", m);                      \
            set_frm(m);                                                                \
            show(name, FF(op ", dyn", a, b, c));                                       \
        }                                                                              \
        set_frm(0);                                                                    \
    } while (0)
#define ALLRM_X(label, op, a)                                                          \
    do {                                                                               \
        show(label " rne", FX(op ", rne", a, 0));                                      \
        show(label " rtz", FX(op ", rtz", a, 0));                                      \
        show(label " rdn", FX(op ", rdn", a, 0));                                      \
        show(label " rup", FX(op ", rup", a, 0));                                      \
        show(label " rmm", FX(op ", rmm", a, 0));                                      \
        for (int m = 0; m < 5; m++) {                                                  \
            char name[64];                                                             \
            snprintf(name, sizeof name, label " dyn frm=%d", m);                      \
            set_frm(m);                                                                \
            show(name, FX(op ", dyn", a, 0));                                          \
        }                                                                              \
        set_frm(0);                                                                    \
    } while (0)

static void canonical_nan(void) {
    puts("# canonical NaN");
    T2("fdiv.d", D_ZERO, D_ZERO);
    T2("fsub.d", D_INF, D_INF);
    T2("fadd.d", D_QNAN_PAYLOAD, D_ONE);
    T2("fadd.d", D_NEG_QNAN, D_ONE);
    T2("fmul.d", D_SNAN, D_ONE);
    T2("fadd.d", D_ONE, D_SNAN);
    T2("fmul.d", D_INF, D_ZERO);
    T2("fdiv.s", S_ZERO, S_ZERO);
    T2("fsub.s", S_INF, S_INF);
    T2("fadd.s", S_QNAN_PAYLOAD, S_ONE);
    T2("fmul.s", S_SNAN, S_ONE);
    T2("fmul.s", S_ZERO, S_NINF);
    T1("fcvt.s.d", D_QNAN_PAYLOAD);
    T1("fcvt.s.d", D_SNAN);
    T1("fcvt.d.s", S_QNAN_PAYLOAD);
    T1("fcvt.d.s", S_SNAN);
}

static void nan_boxing(void) {
    puts("# NaN boxing");
    u64 r;
    asm volatile("fmv.w.x ft0, %1\n\tfmv.x.d %0, ft0" : "=r"(r) : "r"((u64)0x1234567840490fdb) : "ft0");
    show("fmv.w.x then fmv.x.d", r);
    asm volatile("fmv.d.x ft0, %1\n\tfmv.x.w %0, ft0" : "=r"(r) : "r"((u64)0x00000000c0490fdb) : "ft0");
    show("fmv.x.w of unboxed (sign-extends)", r);
    asm volatile("fmv.d.x ft0, %1\n\tfmv.x.w %0, ft0" : "=r"(r) : "r"((u64)0xffffffff40490fdb) : "ft0");
    show("fmv.x.w of boxed", r);
    /* Improperly boxed operands read as the canonical NaN. */
    T2("fadd.s", 0x000000003f800000ull, S_ONE);
    T2("fadd.s", 0xfffffffe3f800000ull, S_ONE);
    T2("fsgnj.s", 0x000000003f800000ull, S_NONE);
    T2("fsgnjn.s", 0x000000003f800000ull, S_ONE);
    T2("fsgnjx.s", S_ONE, 0x0000000080000000ull);
    T2("fmin.s", 0x000000003f800000ull, S_TWO);
    T1("fcvt.d.s", 0x000000003f800000ull);
    TX1("fclass.s", 0x000000003f800000ull);
    TX2("feq.s", 0x000000003f800000ull, 0x000000003f800000ull);
    /* Single results are boxed; flw boxes; fsw stores the low word whatever the box. */
    T2("fsgnj.s", S_ONE, S_ONE);
    uint32_t word = 0;
    u64 loaded;
    asm volatile("fmv.d.x ft0, %2\n\tfsw ft0, %1\n\tflw ft1, %1\n\tfmv.x.d %0, ft1"
                 : "=r"(loaded), "+m"(word) : "r"((u64)0x0123456789abcdefull) : "ft0", "ft1");
    show("fsw unboxed then flw", loaded);
    show("  stored word", word);
    u64 dword = 0x1111111122222222ull;
    asm volatile("fmv.w.x ft0, %1\n\tfsd ft0, %0" : "+m"(dword) : "r"((u64)0x40000000) : "ft0");
    show("fmv.w.x then fsd", dword);
    /* A double op sees the whole 64 bits of a boxed single. */
    T2("fadd.d", S_ONE, D_ONE);
}

static void min_max(void) {
    puts("# fmin/fmax");
    T2("fmin.d", D_QNAN, D_ONE);
    T2("fmin.d", D_ONE, D_QNAN);
    T2("fmin.d", D_QNAN, D_QNAN_PAYLOAD);
    T2("fmin.d", D_SNAN, D_ONE);
    T2("fmin.d", D_ONE, D_SNAN);
    T2("fmin.d", D_SNAN, D_QNAN);
    T2("fmin.d", D_ZERO, D_NZERO);
    T2("fmin.d", D_NZERO, D_ZERO);
    T2("fmax.d", D_ZERO, D_NZERO);
    T2("fmax.d", D_NZERO, D_ZERO);
    T2("fmax.d", D_NINF, D_QNAN);
    T2("fmax.d", D_SNAN, D_SNAN);
    T2("fmax.d", D_NONE, D_ONE);
    T2("fmin.d", D_MIN_SUB, D_NSUB);
    T2("fmin.s", S_QNAN, S_ONE);
    T2("fmin.s", S_ONE, S_QNAN);
    T2("fmin.s", S_SNAN, S_ONE);
    T2("fmin.s", S_QNAN, S_QNAN_PAYLOAD);
    T2("fmin.s", S_ZERO, S_NZERO);
    T2("fmin.s", S_NZERO, S_ZERO);
    T2("fmax.s", S_ZERO, S_NZERO);
    T2("fmax.s", S_NZERO, S_ZERO);
    T2("fmax.s", S_SNAN, S_NINF);
    T2("fmax.s", S_MAX, S_INF);
}

static void rounding(void) {
    puts("# rounding modes");
    ALLRM_F("fdiv.d 1/3", "fdiv.d ft3, ft0, ft1", D_ONE, D_THREE, 0);
    ALLRM_F("fdiv.d -1/3", "fdiv.d ft3, ft0, ft1", D_NONE, D_THREE, 0);
    ALLRM_F("fdiv.s 2/3", "fdiv.s ft3, ft0, ft1", S_TWO, S_THREE, 0);
    /* 1 + 2^-53 is a tie: RNE and RMM differ from the directed modes. */
    ALLRM_F("fadd.d 1+2^-53", "fadd.d ft3, ft0, ft1", D_ONE, 0x3ca0000000000000ull, 0);
    ALLRM_F("fadd.d -1-2^-53", "fadd.d ft3, ft0, ft1", D_NONE, 0xbca0000000000000ull, 0);
    ALLRM_F("fadd.d (1+2^-52)+2^-53", "fadd.d ft3, ft0, ft1", 0x3ff0000000000001ull, 0x3ca0000000000000ull, 0);
    ALLRM_F("fsub.s 1-2^-25", "fsub.s ft3, ft0, ft1", S_ONE, BOX(0x33000000), 0);
    ALLRM_F("fmul.d max*2", "fmul.d ft3, ft0, ft1", D_MAX, D_TWO, 0);
    ALLRM_F("fmul.s -max*2", "fmul.s ft3, ft0, ft1", S_MAX, BOX(0xc0000000), 0);
    ALLRM_F("fsqrt.d 2", "fsqrt.d ft3, ft0", D_TWO, 0, 0);
    ALLRM_F("fsqrt.s 2", "fsqrt.s ft3, ft0", S_TWO, 0, 0);
    ALLRM_F("fmadd.d", "fmadd.d ft3, ft0, ft1, ft2", 0x3ff0000000000001ull, 0x3fefffffffffffffull, D_NONE);
    ALLRM_F("fcvt.s.d 1/3", "fcvt.s.d ft3, ft0", 0x3fd5555555555555ull, 0, 0);
    ALLRM_F("fcvt.s.d tie", "fcvt.s.d ft3, ft0", 0x3ff0000010000000ull, 0, 0);
    ALLRM_F("fcvt.s.l 2^53+1", "fcvt.s.l ft3, %1", 0x20000000000001ull, 0, 0);
    ALLRM_F("fcvt.d.l -(2^53+1)", "fcvt.d.l ft3, %1", -(long)0x20000000000001, 0, 0);
    ALLRM_F("fcvt.s.w 16777217", "fcvt.s.w ft3, %1", 16777217, 0, 0);
    ALLRM_F("fcvt.d.lu 2^64-1", "fcvt.d.lu ft3, %1", 0xffffffffffffffffull, 0, 0);
    ALLRM_F("fmul.d min_sub*0.5", "fmul.d ft3, ft0, ft1", D_MIN_SUB, 0x3fe0000000000000ull, 0);
    ALLRM_F("fmul.d min_sub*1.5", "fmul.d ft3, ft0, ft1", D_MIN_SUB, 0x3ff8000000000000ull, 0);
    ALLRM_X("fcvt.w.d 2.5", "fcvt.w.d %0, ft0", 0x4004000000000000ull);
    ALLRM_X("fcvt.w.d -2.5", "fcvt.w.d %0, ft0", 0xc004000000000000ull);
    ALLRM_X("fcvt.w.d 0.5", "fcvt.w.d %0, ft0", 0x3fe0000000000000ull);
    ALLRM_X("fcvt.l.s -0.5", "fcvt.l.s %0, ft0", BOX(0xbf000000));
    ALLRM_X("fcvt.wu.s 1.5", "fcvt.wu.s %0, ft0", BOX(0x3fc00000));
    ALLRM_X("fcvt.lu.d 3.7", "fcvt.lu.d %0, ft0", 0x400d99999999999aull);

    /* The C library's view: fesetround steers the dynamic mode of compiled code. */
    static const int modes[] = {FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD};
    static const char *names[] = {"nearest", "towardzero", "downward", "upward"};
    volatile double one = 1.0, three = 3.0, half = 2.5, neg = -2.5;
    for (int k = 0; k < 4; k++) {
        fesetround(modes[k]);
        char name[64];
        snprintf(name, sizeof name, "fesetround %s 1/3", names[k]);
        show(name, bits_d(one / three));
        snprintf(name, sizeof name, "fesetround %s rint(2.5)", names[k]);
        show(name, bits_d(rint(half)));
        snprintf(name, sizeof name, "fesetround %s lrint(-2.5)", names[k]);
        show(name, (u64)lrint(neg));
        snprintf(name, sizeof name, "fesetround %s (float)1/3", names[k]);
        show(name, bits_s((float)one / (float)three));
        snprintf(name, sizeof name, "fegetround == set: %s", names[k]);
        show(name, fegetround() == modes[k]);
    }
    fesetround(FE_TONEAREST);
}

static void conversions(void) {
    puts("# float to int: saturation, NaN, inexact");
    TX1("fcvt.w.d", D_QNAN);
    TX1("fcvt.w.d", D_NEG_QNAN);
    TX1("fcvt.w.d", D_INF);
    TX1("fcvt.w.d", D_NINF);
    TX1("fcvt.w.d", 0x4202a05f20000000ull); /* 1e10 */
    TX1("fcvt.w.d", 0xc202a05f20000000ull); /* -1e10 */
    TX1("fcvt.w.d", 0xc1e0000000000000ull); /* -2^31 exactly */
    TX1("fcvt.w.d", 0x41dfffffffc00000ull); /* 2^31 - 1 exactly */
    TX1("fcvt.w.d", 0x41e0000000000000ull); /* 2^31 */
    TX1("fcvt.w.d", D_NZERO);
    TXR("fcvt.w.d", D_QNAN);
    TXR("fcvt.w.d", D_SNAN);
    TXR("fcvt.w.d", D_INF);
    TXR("fcvt.w.d", D_NINF);
    TXR("fcvt.w.d", 0x4202a05f20000000ull); /* 1e10 */
    TXR("fcvt.w.d", 0xc202a05f20000000ull); /* -1e10 */
    TXR("fcvt.w.d", 0xc1e0000000000000ull); /* -2^31 */
    TXR("fcvt.w.d", 0xc1e0000000100000ull); /* -2^31 - 0.5: -2^31, inexact */
    TXR("fcvt.w.d", 0xc1e0000000200000ull); /* -2^31 - 1: saturates */
    TXR("fcvt.w.d", 0x41dfffffffffffffull); /* just below 2^31 */
    TXR("fcvt.w.d", 0x41e0000000000000ull); /* 2^31 */
    TXR("fcvt.w.d", 0xbfefffffffffffffull); /* just above -1: -0 -> 0, inexact */
    TXR("fcvt.l.d", D_QNAN);
    TXR("fcvt.l.d", 0x43e0000000000000ull); /* 2^63 */
    TXR("fcvt.l.d", 0xc3e0000000000000ull); /* -2^63 */
    TXR("fcvt.l.d", 0xc3e0000000000001ull); /* below -2^63 */
    TXR("fcvt.l.d", 0xc415af1d78b58c40ull); /* -1e20 */
    TXR("fcvt.l.d", 0x4415af1d78b58c40ull); /* 1e20 */
    TXR("fcvt.w.s", S_QNAN);
    TXR("fcvt.w.s", S_NINF);
    TXR("fcvt.w.s", BOX(0x4f000000)); /* 2^31 */
    TXR("fcvt.w.s", BOX(0xcf000000)); /* -2^31 */
    TXR("fcvt.w.s", 0x000000004f000000ull); /* not boxed: the canonical NaN */
    TXR("fcvt.l.s", S_SNAN);
    TXR("fcvt.l.s", BOX(0xdf000000)); /* -2^63 */
    TXR("fcvt.l.s", BOX(0x5f000000)); /* 2^63 */
    TXR("fcvt.l.s", BOX(0xc0490fdb)); /* -pi */
    TX1("fcvt.wu.d", D_NONE);
    TX1("fcvt.wu.d", 0xbfe0000000000000ull); /* -0.5 rne -> -0 -> 0, NX only */
    TX1("fcvt.wu.d", 0x41e65a0bc0000000ull); /* 3e9: sign-extended 32-bit result */
    TX1("fcvt.wu.d", 0x41f0000000000000ull); /* 2^32 */
    TX1("fcvt.wu.d", D_QNAN);
    TX1("fcvt.l.d", 0x43e0000000000000ull); /* 2^63 */
    TX1("fcvt.l.d", 0xc3e0000000000000ull); /* -2^63 exactly */
    TX1("fcvt.l.d", D_NINF);
    TX1("fcvt.l.d", D_SNAN);
    TX1("fcvt.lu.d", 0x43f0000000000000ull); /* 2^64 */
    TX1("fcvt.lu.d", D_NONE);
    TX1("fcvt.lu.d", D_QNAN);
    TX1("fcvt.lu.d", D_MIN_SUB);
    TX1("fcvt.w.s", S_QNAN);
    TX1("fcvt.w.s", S_NINF);
    TX1("fcvt.w.s", BOX(0x4f000000)); /* 2^31 */
    TX1("fcvt.w.s", BOX(0xcf000000)); /* -2^31 */
    TX1("fcvt.wu.s", BOX(0x4f800000)); /* 2^32 */
    TX1("fcvt.wu.s", BOX(0xbf800000));
    TX1("fcvt.l.s", BOX(0x5f000000)); /* 2^63 */
    TX1("fcvt.l.s", S_SNAN);
    TX1("fcvt.lu.s", BOX(0x5f800000)); /* 2^64 */
    TX1("fcvt.lu.s", S_INF);
    TX1("fcvt.lu.s", BOX(0xbf000000)); /* -0.5 */
    puts("# int to float");
    TI("fcvt.s.w", 0x80000000ull);
    TI("fcvt.s.w", 0xffffffff7fffffffull); /* only the low word counts */
    TI("fcvt.s.wu", 0xffffffffull);
    TI("fcvt.s.l", 0x8000000000000000ull);
    TI("fcvt.s.lu", 0xffffffffffffffffull);
    TI("fcvt.d.w", 0x00000000ffffffffull);
    TI("fcvt.d.wu", 0xffffffff80000000ull);
    TI("fcvt.d.l", 0x8000000000000000ull);
    TI("fcvt.d.lu", 0x8000000000000001ull);
    TI("fcvt.d.w", 0);
    puts("# float to float");
    T1("fcvt.s.d", D_MAX);
    T1("fcvt.s.d", D_MIN_NORMAL);
    T1("fcvt.s.d", 0x36a0000000000000ull); /* 2^-149 */
    T1("fcvt.s.d", 0x3690000000000000ull); /* 2^-150: tie to zero */
    T1("fcvt.s.d", D_NINF);
    T1("fcvt.s.d", D_NZERO);
    T1("fcvt.d.s", S_MIN_SUB);
    T1("fcvt.d.s", S_NINF);
}

static void classify(void) {
    puts("# fclass");
    TX1("fclass.d", D_NINF);
    TX1("fclass.d", D_NONE);
    TX1("fclass.d", D_NSUB);
    TX1("fclass.d", D_NZERO);
    TX1("fclass.d", D_ZERO);
    TX1("fclass.d", D_MIN_SUB);
    TX1("fclass.d", D_ONE);
    TX1("fclass.d", D_INF);
    TX1("fclass.d", D_SNAN);
    TX1("fclass.d", D_QNAN);
    TX1("fclass.d", D_NEG_QNAN);
    TX1("fclass.s", S_NINF);
    TX1("fclass.s", S_NONE);
    TX1("fclass.s", BOX(0x807fffff));
    TX1("fclass.s", S_NZERO);
    TX1("fclass.s", S_ZERO);
    TX1("fclass.s", S_MIN_SUB);
    TX1("fclass.s", S_ONE);
    TX1("fclass.s", S_INF);
    TX1("fclass.s", S_SNAN);
    TX1("fclass.s", S_QNAN);
}

static void arithmetic(void) {
    puts("# fused multiply-add");
    /* (1 + 2^-52)(1 - 2^-53) - 1 needs the unrounded product. */
    T3("fmadd.d", 0x3ff0000000000001ull, 0x3fefffffffffffffull, D_NONE);
    T3("fmsub.d", 0x3ff0000000000001ull, 0x3fefffffffffffffull, D_ONE);
    T3("fnmadd.d", 0x3ff0000000000001ull, 0x3fefffffffffffffull, D_NONE);
    T3("fnmsub.d", 0x3ff0000000000001ull, 0x3fefffffffffffffull, D_ONE);
    T3("fmadd.s", BOX(0x3f800001), BOX(0x3f7fffff), S_NONE);
    T3("fnmsub.s", BOX(0x3f800001), BOX(0x3f7fffff), S_ONE);
    T3("fmadd.d", D_INF, D_ZERO, D_QNAN);
    T3("fmadd.d", D_ZERO, D_NINF, D_ONE);
    T3("fmadd.d", D_INF, D_ONE, D_NINF);
    T3("fmadd.d", D_QNAN, D_ONE, D_SNAN);
    T3("fmadd.s", S_INF, S_ZERO, S_QNAN);
    T3("fmadd.d", D_ZERO, D_NZERO, D_ZERO);
    T3("fmadd.d", D_ZERO, D_NZERO, D_NZERO);
    T3("fnmadd.d", D_ZERO, D_ZERO, D_ZERO);
    T3("fnmsub.d", D_ZERO, D_ZERO, D_ZERO);
    T3("fmsub.s", S_ZERO, S_ZERO, S_ZERO);
    T3("fnmadd.d", D_ONE, D_ONE, D_NONE);  /* an exact zero sum: +0, not -(+0) */
    T3("fnmadd.s", S_ONE, S_ONE, S_NONE);
    T3("fmadd.d", D_MAX, D_TWO, 0xffefffffffffffffull);
    T3("fmadd.s", S_MAX, S_TWO, BOX(0xff7fffff));
    puts("# sqrt");
    T1("fsqrt.d", D_NONE);
    T1("fsqrt.d", D_NZERO);
    T1("fsqrt.d", D_NINF);
    T1("fsqrt.d", D_INF);
    T1("fsqrt.d", D_MIN_SUB);
    T1("fsqrt.d", 0x4010000000000000ull);
    T1("fsqrt.s", S_NONE);
    T1("fsqrt.s", S_NZERO);
    T1("fsqrt.s", S_SNAN);
    T1("fsqrt.s", BOX(0x40800000));
    puts("# division");
    T2("fdiv.d", D_ONE, D_ZERO);
    T2("fdiv.d", D_NONE, D_ZERO);
    T2("fdiv.d", D_ONE, D_NZERO);
    T2("fdiv.d", D_INF, D_ZERO);
    T2("fdiv.d", D_ONE, D_INF);
    T2("fdiv.d", D_INF, D_INF);
    T2("fdiv.d", D_MIN_SUB, D_TWO);
    T2("fdiv.s", S_ONE, S_ZERO);
    T2("fdiv.s", S_NONE, S_NZERO);
    T2("fdiv.s", S_ZERO, S_ZERO);
    puts("# overflow and underflow");
    T2("fmul.d", D_MAX, D_MAX);
    T2("fadd.d", D_MAX, D_MAX);
    T2("fmul.d", D_MIN_NORMAL, D_MIN_NORMAL);
    T2("fmul.d", D_MIN_NORMAL, 0x3fe0000000000000ull);          /* exact subnormal: no UF */
    T2("fmul.d", 0x0010000000000001ull, 0x3fe0000000000000ull); /* inexact subnormal: UF */
    T2("fsub.d", D_MIN_NORMAL, 0x0010000000000001ull);
    /* Rounds up to the smallest normal: tininess is detected after rounding, so no UF. */
    T2("fmul.d", 0x000fffffffffffffull, 0x3ff0000000000001ull);
    T2("fmul.s", BOX(0x007fffff), BOX(0x3f800001));
    T2("fmul.s", S_MAX, S_TWO);
    T2("fmul.s", S_MIN_NORMAL, BOX(0x3f000000));
    T2("fmul.s", BOX(0x00800001), BOX(0x3f000000));
    T2("fadd.s", S_MIN_SUB, S_MIN_SUB);
    T2("fadd.d", D_ONE, D_NONE);
    T2("fadd.d", D_NZERO, D_NZERO);
    T2("fadd.d", D_ZERO, D_NZERO);
    T2("fsub.d", D_ZERO, D_ZERO);
    show("fsub.d 0-0 rdn", FF("fsub.d ft3, ft0, ft1, rdn", D_ZERO, D_ZERO, 0));
    show("fadd.d 1+(-1) rdn", FF("fadd.d ft3, ft0, ft1, rdn", D_ONE, D_NONE, 0));
    show("fadd.s 1+(-1) rdn", FF("fadd.s ft3, ft0, ft1, rdn", S_ONE, S_NONE, 0));
    show("fmul.d max*2 rtz", FF("fmul.d ft3, ft0, ft1, rtz", D_MAX, D_TWO, 0));
    show("fmul.d max*2 rdn", FF("fmul.d ft3, ft0, ft1, rdn", D_MAX, D_TWO, 0));
    show("fmul.d -max*2 rdn", FF("fmul.d ft3, ft0, ft1, rdn", 0xffefffffffffffffull, D_TWO, 0));
    show("fmul.d min_sub*min_sub rup", FF("fmul.d ft3, ft0, ft1, rup", D_MIN_SUB, D_MIN_SUB, 0));
}

static void compare(void) {
    puts("# comparisons");
    TX2("feq.d", D_QNAN, D_QNAN);
    TX2("feq.d", D_SNAN, D_ONE);
    TX2("feq.d", D_ZERO, D_NZERO);
    TX2("flt.d", D_QNAN, D_ONE);
    TX2("flt.d", D_NZERO, D_ZERO);
    TX2("flt.d", D_NINF, D_MAX);
    TX2("fle.d", D_ONE, D_QNAN);
    TX2("fle.d", D_NZERO, D_ZERO);
    TX2("fle.d", D_INF, D_INF);
    TX2("feq.s", S_QNAN, S_ONE);
    TX2("feq.s", S_SNAN, S_SNAN);
    TX2("flt.s", S_ONE, S_TWO);
    TX2("flt.s", S_QNAN, S_ONE);
    TX2("fle.s", S_NZERO, S_ZERO);
    TX2("fle.s", S_SNAN, S_ONE);
    puts("# sign injection");
    T2("fsgnj.d", D_QNAN, D_NONE);
    T2("fsgnjn.d", D_SNAN, D_NONE);
    T2("fsgnjx.d", D_NONE, D_NONE);
    T2("fsgnjx.d", D_NEG_QNAN, D_ONE);
    T2("fsgnjn.s", S_SNAN, S_ONE);
    T2("fsgnjx.s", S_NONE, S_NZERO);
    T2("fsgnj.s", S_QNAN_PAYLOAD, S_NONE);
}

int main(void) {
    take_flags(0);
    canonical_nan();
    nan_boxing();
    min_max();
    rounding();
    conversions();
    classify();
    arithmetic();
    compare();
    return 0;
}
