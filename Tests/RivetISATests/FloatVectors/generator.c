/*
 * Writes RISC-V F/D test vectors: operands, then the result and fflags for every rounding mode,
 * as a RISC-V machine (here qemu-riscv64, the outside reference) computes them.
 *
 * Built and run by regenerate.sh; the output is vectors.txt. (The source is named *.c.in so
 * that SwiftPM does not take it for a C source of the Swift test target.) Larger, uncommitted
 * sets for a one-off check: regenerate.sh SCALE SEED OUTPUT, then run the vector test with
 * RIVET_FLOAT_VECTORS=OUTPUT.
 *
 * Output, one line per operand tuple, all numbers hexadecimal:
 *   OP A [B [C]] R0 F0 R1 F1 R2 F2 R3 F3 R4 F4   operations with a rounding mode (RNE..RMM)
 *   OP A [B] R F                                  fmin/fmax/feq/flt/fle/fclass
 * Floating-point values are raw bits (binary32 as 8 digits); integer operands and results are
 * the 64-bit register value (32-bit results sign-extended, as RISC-V writes them).
 * Every instruction uses a static rounding mode, so fesetround and the C compiler's own
 * floating-point code play no part.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t u64;
typedef uint32_t u32;

/* ---- Deterministic pseudo-random numbers (xorshift64*) ---- */

static u64 state = 0x9e3779b97f4a7c15ull;
static u64 next(void) {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545f4914f6cdd1dull;
}
static u64 below(u64 n) { return next() % n; }

/* ---- Bits and flags ---- */

static float f32(u64 x) { u32 v = (u32)x; float r; memcpy(&r, &v, 4); return r; }
static double f64(u64 x) { double r; memcpy(&r, &x, 8); return r; }
static u64 bits32(float x) { u32 v; memcpy(&v, &x, 4); return v; }
static u64 bits64(double x) { u64 v; memcpy(&v, &x, 8); return v; }
static void clear_flags(void) { __asm__ volatile("fsflags x0" ::: "memory"); }
static unsigned read_flags(void) {
    unsigned f;
    __asm__ volatile("frflags %0" : "=r"(f)::"memory");
    return f;
}

/* One function per instruction: result bits for operands a, b, c and rounding mode rm. */
typedef u64 (*op_fn)(u64 a, u64 b, u64 c, int rm);

/* Binary operations with a rounding mode. */
#define RR(name, insn, T, load, store)                                                       \
    static u64 name(u64 a, u64 b, u64 c, int rm) {                                           \
        T x = load(a), y = load(b), r;                                                       \
        (void)c;                                                                             \
        switch (rm) {                                                                        \
        case 0: __asm__ volatile(insn " %0,%1,%2,rne" : "=f"(r) : "f"(x), "f"(y)); break;   \
        case 1: __asm__ volatile(insn " %0,%1,%2,rtz" : "=f"(r) : "f"(x), "f"(y)); break;   \
        case 2: __asm__ volatile(insn " %0,%1,%2,rdn" : "=f"(r) : "f"(x), "f"(y)); break;   \
        case 3: __asm__ volatile(insn " %0,%1,%2,rup" : "=f"(r) : "f"(x), "f"(y)); break;   \
        default: __asm__ volatile(insn " %0,%1,%2,rmm" : "=f"(r) : "f"(x), "f"(y)); break;  \
        }                                                                                    \
        return store(r);                                                                     \
    }

/* Fused multiply-adds. */
#define RRR(name, insn, T, load, store)                                                               \
    static u64 name(u64 a, u64 b, u64 c, int rm) {                                                    \
        T x = load(a), y = load(b), z = load(c), r;                                                   \
        switch (rm) {                                                                                 \
        case 0: __asm__ volatile(insn " %0,%1,%2,%3,rne" : "=f"(r) : "f"(x), "f"(y), "f"(z)); break;  \
        case 1: __asm__ volatile(insn " %0,%1,%2,%3,rtz" : "=f"(r) : "f"(x), "f"(y), "f"(z)); break;  \
        case 2: __asm__ volatile(insn " %0,%1,%2,%3,rdn" : "=f"(r) : "f"(x), "f"(y), "f"(z)); break;  \
        case 3: __asm__ volatile(insn " %0,%1,%2,%3,rup" : "=f"(r) : "f"(x), "f"(y), "f"(z)); break;  \
        default: __asm__ volatile(insn " %0,%1,%2,%3,rmm" : "=f"(r) : "f"(x), "f"(y), "f"(z)); break; \
        }                                                                                             \
        return store(r);                                                                              \
    }

/* Unary operations with a rounding mode; IN/OUT are "f" or "r". */
#define R1(name, insn, TI, TO, in, out, load, store)                                   \
    static u64 name(u64 a, u64 b, u64 c, int rm) {                                     \
        TI x = load(a);                                                                \
        TO r;                                                                          \
        (void)b, (void)c;                                                              \
        switch (rm) {                                                                  \
        case 0: __asm__ volatile(insn " %0,%1,rne" : "=" out(r) : in(x)); break;      \
        case 1: __asm__ volatile(insn " %0,%1,rtz" : "=" out(r) : in(x)); break;      \
        case 2: __asm__ volatile(insn " %0,%1,rdn" : "=" out(r) : in(x)); break;      \
        case 3: __asm__ volatile(insn " %0,%1,rup" : "=" out(r) : in(x)); break;      \
        default: __asm__ volatile(insn " %0,%1,rmm" : "=" out(r) : in(x)); break;     \
        }                                                                              \
        return store(r);                                                               \
    }

/* Exact unary operations: the assembler takes no rounding mode (the result cannot depend on it). */
#define R1X(name, insn, TI, TO, in, out, load, store)              \
    static u64 name(u64 a, u64 b, u64 c, int rm) {                 \
        TI x = load(a);                                            \
        TO r;                                                      \
        (void)b, (void)c, (void)rm;                                \
        __asm__ volatile(insn " %0,%1" : "=" out(r) : in(x));      \
        return store(r);                                           \
    }

/* Operations without a rounding mode. */
#define NR2(name, insn, T, out, TO, load, store)                                    \
    static u64 name(u64 a, u64 b, u64 c, int rm) {                                  \
        T x = load(a), y = load(b);                                                 \
        TO r;                                                                       \
        (void)c, (void)rm;                                                          \
        __asm__ volatile(insn " %0,%1,%2" : "=" out(r) : "f"(x), "f"(y));           \
        return store(r);                                                            \
    }
#define NR1(name, insn, T, load)                                     \
    static u64 name(u64 a, u64 b, u64 c, int rm) {                   \
        T x = load(a);                                               \
        u64 r;                                                       \
        (void)b, (void)c, (void)rm;                                  \
        __asm__ volatile(insn " %0,%1" : "=r"(r) : "f"(x));          \
        return r;                                                    \
    }

static u64 id(u64 x) { return x; }
static int64_t i32v(u64 x) { return (int32_t)x; }
static u64 u32v(u64 x) { return (u32)x; }

RR(fadd_s, "fadd.s", float, f32, bits32)
RR(fsub_s, "fsub.s", float, f32, bits32)
RR(fmul_s, "fmul.s", float, f32, bits32)
RR(fdiv_s, "fdiv.s", float, f32, bits32)
R1(fsqrt_s, "fsqrt.s", float, float, "f", "f", f32, bits32)
RRR(fmadd_s, "fmadd.s", float, f32, bits32)
RRR(fmsub_s, "fmsub.s", float, f32, bits32)
RRR(fnmsub_s, "fnmsub.s", float, f32, bits32)
RRR(fnmadd_s, "fnmadd.s", float, f32, bits32)
NR2(fmin_s, "fmin.s", float, "f", float, f32, bits32)
NR2(fmax_s, "fmax.s", float, "f", float, f32, bits32)
NR2(feq_s, "feq.s", float, "r", u64, f32, id)
NR2(flt_s, "flt.s", float, "r", u64, f32, id)
NR2(fle_s, "fle.s", float, "r", u64, f32, id)
NR1(fclass_s, "fclass.s", float, f32)
R1(fcvt_w_s, "fcvt.w.s", float, u64, "f", "r", f32, id)
R1(fcvt_wu_s, "fcvt.wu.s", float, u64, "f", "r", f32, id)
R1(fcvt_l_s, "fcvt.l.s", float, u64, "f", "r", f32, id)
R1(fcvt_lu_s, "fcvt.lu.s", float, u64, "f", "r", f32, id)
R1(fcvt_s_w, "fcvt.s.w", int64_t, float, "r", "f", i32v, bits32)
R1(fcvt_s_wu, "fcvt.s.wu", u64, float, "r", "f", u32v, bits32)
R1(fcvt_s_l, "fcvt.s.l", u64, float, "r", "f", id, bits32)
R1(fcvt_s_lu, "fcvt.s.lu", u64, float, "r", "f", id, bits32)

RR(fadd_d, "fadd.d", double, f64, bits64)
RR(fsub_d, "fsub.d", double, f64, bits64)
RR(fmul_d, "fmul.d", double, f64, bits64)
RR(fdiv_d, "fdiv.d", double, f64, bits64)
R1(fsqrt_d, "fsqrt.d", double, double, "f", "f", f64, bits64)
RRR(fmadd_d, "fmadd.d", double, f64, bits64)
RRR(fmsub_d, "fmsub.d", double, f64, bits64)
RRR(fnmsub_d, "fnmsub.d", double, f64, bits64)
RRR(fnmadd_d, "fnmadd.d", double, f64, bits64)
NR2(fmin_d, "fmin.d", double, "f", double, f64, bits64)
NR2(fmax_d, "fmax.d", double, "f", double, f64, bits64)
NR2(feq_d, "feq.d", double, "r", u64, f64, id)
NR2(flt_d, "flt.d", double, "r", u64, f64, id)
NR2(fle_d, "fle.d", double, "r", u64, f64, id)
NR1(fclass_d, "fclass.d", double, f64)
R1(fcvt_w_d, "fcvt.w.d", double, u64, "f", "r", f64, id)
R1(fcvt_wu_d, "fcvt.wu.d", double, u64, "f", "r", f64, id)
R1(fcvt_l_d, "fcvt.l.d", double, u64, "f", "r", f64, id)
R1(fcvt_lu_d, "fcvt.lu.d", double, u64, "f", "r", f64, id)
R1X(fcvt_d_w, "fcvt.d.w", int64_t, double, "r", "f", i32v, bits64)
R1X(fcvt_d_wu, "fcvt.d.wu", u64, double, "r", "f", u32v, bits64)
R1(fcvt_d_l, "fcvt.d.l", u64, double, "r", "f", id, bits64)
R1(fcvt_d_lu, "fcvt.d.lu", u64, double, "r", "f", id, bits64)
R1(fcvt_s_d, "fcvt.s.d", double, float, "f", "f", f64, bits32)
R1X(fcvt_d_s, "fcvt.d.s", float, double, "f", "f", f32, bits64)

/* ---- Operand generators ---- */

/* A format: precision p (with hidden bit), exponent width, total width. */
typedef struct { int p, e, w; } fmt;
#define SF {24, 8, 32}
#define DF {53, 11, 64}
static const fmt D = DF;

static u64 pack(fmt f, int neg, int field, u64 frac) {
    return ((u64)neg << (f.w - 1)) | ((u64)field << (f.p - 1)) | (frac & ((1ull << (f.p - 1)) - 1));
}
static int bias(fmt f) { return (1 << (f.e - 1)) - 1; }
static int maxfield(fmt f) { return (1 << f.e) - 1; }
static u64 randfrac(fmt f) { return next() & ((1ull << (f.p - 1)) - 1); }
/* A fraction with only its top k bits random (k = 0: a power of two). */
static u64 shortfrac(fmt f, int k) {
    if (k <= 0) return 0;
    if (k >= f.p - 1) return randfrac(f);
    return (next() & ((1ull << k) - 1)) << (f.p - 1 - k);
}
static int clampfield(fmt f, int field) {
    if (field < 0) return 0;
    if (field > maxfield(f) - 1) return maxfield(f) - 1;
    return field;
}

static u64 special(fmt f) {
    int neg = (int)below(2);
    int mf = maxfield(f);
    switch (below(16)) {
    case 0: return pack(f, neg, 0, 0);                             /* zero */
    case 1: return pack(f, neg, mf, 0);                            /* infinity */
    case 2: return pack(f, neg, mf, 1ull << (f.p - 2));            /* quiet NaN */
    case 3: return pack(f, neg, mf, (1ull << (f.p - 2)) | randfrac(f)); /* quiet NaN, payload */
    case 4: return pack(f, neg, mf, 1 + (randfrac(f) >> 2));       /* signaling NaN */
    case 5: return pack(f, neg, 0, 1);                             /* min subnormal */
    case 6: return pack(f, neg, 0, ~0ull);                         /* max subnormal */
    case 7: return pack(f, neg, 1, 0);                             /* min normal */
    case 8: return pack(f, neg, mf - 1, ~0ull);                    /* max finite */
    case 9: return pack(f, neg, bias(f), 0);                       /* one */
    case 10: return pack(f, neg, bias(f) - 1, ~0ull);              /* 1 - ulp */
    case 11: return pack(f, neg, bias(f), 1);                      /* 1 + ulp */
    case 12: return pack(f, neg, 1, ~0ull);                        /* 2 min normal - ulp */
    case 13: return pack(f, neg, mf - 1, 0);                       /* largest power of 2 */
    case 14: return pack(f, neg, bias(f) - 1, 0);                  /* 0.5 */
    default: return pack(f, neg, 0, randfrac(f));                  /* subnormal */
    }
}

/* A value from a mixture of categories; near == a field to stay close to, or -1. */
static u64 value(fmt f, int near) {
    int neg = (int)below(2);
    int mf = maxfield(f);
    if (near >= 0 && below(3) != 0) {
        int field = clampfield(f, near + (int)below(2 * f.p + 7) - f.p - 3);
        return pack(f, neg, field, below(2) ? randfrac(f) : shortfrac(f, (int)below(f.p + 1)));
    }
    switch (below(12)) {
    case 0: case 1: return special(f);
    case 2: return next() & (f.w == 64 ? ~0ull : 0xffffffffull);
    case 3: case 4: case 5: return pack(f, neg, bias(f) - 20 + (int)below(40), randfrac(f));
    case 6: case 7: return pack(f, neg, bias(f) - 20 + (int)below(40), shortfrac(f, (int)below(f.p + 1)));
    case 8: return pack(f, neg, (int)below(mf), shortfrac(f, (int)below(f.p + 1)));
    case 9: return pack(f, neg, (int)below(f.p + 4), below(2) ? randfrac(f) : shortfrac(f, (int)below(f.p)));
    case 10: return pack(f, neg, mf - 1 - (int)below(f.p + 4), below(2) ? randfrac(f) : shortfrac(f, 3));
    default: return pack(f, neg, 1 + (int)below(mf - 1), randfrac(f));
    }
}
static int field_of(fmt f, u64 x) { return (int)((x >> (f.p - 1)) & (u64)maxfield(f)); }

/* An integer operand: small, near powers of two, with p+1 significant bits (ties), or random. */
static u64 integer(int width) {
    u64 x;
    switch (below(6)) {
    case 0: x = below(2000) - 1000; break;
    case 1: x = 1ull << below(64); x += below(5) - 2; break;
    case 2: { int k = 20 + (int)below(40); x = (next() | 1) & ((1ull << k) - 1); x |= 1ull << (k - 1);
              x <<= below(64 - k); if (below(2)) x = -x; break; }
    default: x = next() >> below(64); if (below(2)) x = -x; break;
    }
    return width == 32 ? (u64)(int64_t)(int32_t)x : x;
}

/* A floating-point operand for float-to-integer conversions: mostly moderate magnitudes with
   short fractions (exact halves), plus the saturation boundaries. */
static u64 to_int_operand(fmt f) {
    int neg = (int)below(2);
    switch (below(5)) {
    case 0: return value(f, -1);
    case 1: { int e = 30 + (int)below(36); /* around 2^31 .. 2^65 */
              return pack(f, neg, bias(f) + e, below(2) ? shortfrac(f, 3) : (below(2) ? 0 : ~0ull)); }
    default: return pack(f, neg, bias(f) - 3 + (int)below(40), shortfrac(f, (int)below(f.p + 1)));
    }
}

/* ---- Exact ties, where RMM and RNE part ---- */

/* A random odd integer of exactly k bits (k >= 1). */
static u64 odd_bits(int k) {
    if (k <= 1) return 1;
    return ((next() & ((1ull << (k - 1)) - 1)) | (1ull << (k - 1))) | 1;
}
/* (-1)^neg × m × 2^e in format f; m must fit in the precision (exact, given the range). */
static u64 scaled(fmt f, int neg, u64 m, int e) {
    if (f.w == 32) { float x = ldexpf((float)m, e); return bits32(neg ? -x : x); }
    double x = ldexp((double)m, e);
    return bits64(neg ? -x : x);
}
/* A scale for tie operands: mostly moderate, sometimes near the underflow threshold. */
static int tie_scale(fmt f) {
    if (below(4) == 0) return 2 - bias(f) - f.p - (int)below(f.p);
    return (int)below(60) - 30;
}
/* a + b is a tie: b is an odd multiple of half an ulp of a. */
static void add_tie(fmt f, u64 *a, u64 *b) {
    int e = tie_scale(f);
    *a = scaled(f, (int)below(2), odd_bits(f.p - (below(4) == 0)), e);
    *b = scaled(f, (int)below(2), odd_bits(1 + (int)below(3)), e - 1);
}
/* a × b has p + 1 significant bits (a tie) about half the time. */
static void mul_tie(fmt f, u64 *a, u64 *b) {
    int sa = 2 + (int)below(f.p - 2);
    int sb = f.p + 1 + (int)below(2) - sa;
    if (sb > f.p) sb = f.p;
    int e = tie_scale(f);
    *a = scaled(f, (int)below(2), odd_bits(sa), e / 2);
    *b = scaled(f, (int)below(2), odd_bits(sb), e - e / 2 - sa - sb + f.p + 1);
}
/* a × b + c is a tie: an exact product of at most p bits plus an odd multiple of half its ulp,
   or a p-bit addend plus a product that is an odd multiple of half the addend's ulp. */
static void fma_tie(fmt f, u64 *a, u64 *b, u64 *c) {
    int e = tie_scale(f);
    if (below(2)) {
        int sa = 1 + (int)below(f.p - 1);
        int sb = f.p - sa - (int)below(2);
        if (sb < 1) sb = 1;
        *a = scaled(f, (int)below(2), odd_bits(sa), e / 2);
        *b = scaled(f, (int)below(2), odd_bits(sb), e - e / 2 + f.p - sa - sb);
        *c = scaled(f, (int)below(2), odd_bits(1 + (int)below(3)), e - 1);
    } else {
        *c = scaled(f, (int)below(2), odd_bits(f.p - (int)below(2)), e + 1);
        int sa = 1 + (int)below(2);
        *a = scaled(f, (int)below(2), odd_bits(sa), e / 2);
        *b = scaled(f, (int)below(2), 1, e - e / 2);
    }
}
/* A float n + 1/2 (an integer conversion's tie). */
static u64 to_int_tie(fmt f) {
    int k = 1 + (int)below(f.p - 2);
    u64 n = (next() & ((1ull << k) - 1)) | (1ull << (k - 1));
    return scaled(f, (int)below(2), 2 * n + 1, -1);
}
/* An integer with exactly p + 1 significant bits (a tie when converted to format f). */
static u64 from_int_tie(fmt f, int width) {
    int shift = (int)below((unsigned)(width - f.p - 1) + 1);
    u64 x = odd_bits(f.p + 1) << shift;
    if (width == 32) x = (u32)x;
    if (below(2)) x = -x;
    return width == 32 ? (u64)(int64_t)(int32_t)x : x;
}
/* A binary64 value with 25 significant bits (a tie when converted to binary32). */
static u64 narrowing_tie(void) {
    int e = below(4) == 0 ? -126 - 25 - (int)below(24) : (int)below(60) - 30;
    return scaled(D, (int)below(2), odd_bits(25), e);
}

/* ---- The table of operations ---- */

/* How an operation's operands are generated and its result printed. */
enum kind {
    BINARY,      /* two floats, a rounding mode, a float result */
    TERNARY,     /* three floats (fused multiply-add), a rounding mode */
    UNARY,       /* one float, a rounding mode, a float result in format out */
    TO_INT,      /* one float, a rounding mode, an integer result */
    FROM_INT,    /* one integer of width iwidth, a rounding mode, a float result */
    NO_RM,       /* two floats, no rounding mode: fmin, fmax (float result) */
    COMPARE,     /* two floats, no rounding mode, a 0/1 result */
    CLASS,       /* one float, no rounding mode, a mask */
};
typedef struct {
    const char *name;
    op_fn fn;
    enum kind kind;
    fmt in;      /* the floating-point operands' format (the result's, for FROM_INT) */
    fmt out;     /* the result format, for UNARY */
    int iwidth;  /* the integer operand's width, for FROM_INT */
    int count;   /* operand tuples */
} op;

#define N_ARITH 700
#define N_FMA 450
#define N_OTHER 250

static const op ops[] = {
    {"fadd.s", fadd_s, BINARY, SF, SF, 0, N_ARITH},
    {"fsub.s", fsub_s, BINARY, SF, SF, 0, N_ARITH},
    {"fmul.s", fmul_s, BINARY, SF, SF, 0, N_ARITH},
    {"fdiv.s", fdiv_s, BINARY, SF, SF, 0, N_ARITH},
    {"fsqrt.s", fsqrt_s, UNARY, SF, SF, 0, N_OTHER},
    {"fmadd.s", fmadd_s, TERNARY, SF, SF, 0, N_FMA},
    {"fmsub.s", fmsub_s, TERNARY, SF, SF, 0, N_FMA},
    {"fnmsub.s", fnmsub_s, TERNARY, SF, SF, 0, N_FMA},
    {"fnmadd.s", fnmadd_s, TERNARY, SF, SF, 0, N_FMA},
    {"fmin.s", fmin_s, NO_RM, SF, SF, 0, N_OTHER},
    {"fmax.s", fmax_s, NO_RM, SF, SF, 0, N_OTHER},
    {"feq.s", feq_s, COMPARE, SF, SF, 0, N_OTHER},
    {"flt.s", flt_s, COMPARE, SF, SF, 0, N_OTHER},
    {"fle.s", fle_s, COMPARE, SF, SF, 0, N_OTHER},
    {"fclass.s", fclass_s, CLASS, SF, SF, 0, N_OTHER},
    {"fcvt.w.s", fcvt_w_s, TO_INT, SF, SF, 0, N_OTHER},
    {"fcvt.wu.s", fcvt_wu_s, TO_INT, SF, SF, 0, N_OTHER},
    {"fcvt.l.s", fcvt_l_s, TO_INT, SF, SF, 0, N_OTHER},
    {"fcvt.lu.s", fcvt_lu_s, TO_INT, SF, SF, 0, N_OTHER},
    {"fcvt.s.w", fcvt_s_w, FROM_INT, SF, SF, 32, N_OTHER},
    {"fcvt.s.wu", fcvt_s_wu, FROM_INT, SF, SF, 32, N_OTHER},
    {"fcvt.s.l", fcvt_s_l, FROM_INT, SF, SF, 64, N_OTHER},
    {"fcvt.s.lu", fcvt_s_lu, FROM_INT, SF, SF, 64, N_OTHER},
    {"fadd.d", fadd_d, BINARY, DF, DF, 0, N_ARITH},
    {"fsub.d", fsub_d, BINARY, DF, DF, 0, N_ARITH},
    {"fmul.d", fmul_d, BINARY, DF, DF, 0, N_ARITH},
    {"fdiv.d", fdiv_d, BINARY, DF, DF, 0, N_ARITH},
    {"fsqrt.d", fsqrt_d, UNARY, DF, DF, 0, N_OTHER},
    {"fmadd.d", fmadd_d, TERNARY, DF, DF, 0, N_FMA},
    {"fmsub.d", fmsub_d, TERNARY, DF, DF, 0, N_FMA},
    {"fnmsub.d", fnmsub_d, TERNARY, DF, DF, 0, N_FMA},
    {"fnmadd.d", fnmadd_d, TERNARY, DF, DF, 0, N_FMA},
    {"fmin.d", fmin_d, NO_RM, DF, DF, 0, N_OTHER},
    {"fmax.d", fmax_d, NO_RM, DF, DF, 0, N_OTHER},
    {"feq.d", feq_d, COMPARE, DF, DF, 0, N_OTHER},
    {"flt.d", flt_d, COMPARE, DF, DF, 0, N_OTHER},
    {"fle.d", fle_d, COMPARE, DF, DF, 0, N_OTHER},
    {"fclass.d", fclass_d, CLASS, DF, DF, 0, N_OTHER},
    {"fcvt.w.d", fcvt_w_d, TO_INT, DF, DF, 0, N_OTHER},
    {"fcvt.wu.d", fcvt_wu_d, TO_INT, DF, DF, 0, N_OTHER},
    {"fcvt.l.d", fcvt_l_d, TO_INT, DF, DF, 0, N_OTHER},
    {"fcvt.lu.d", fcvt_lu_d, TO_INT, DF, DF, 0, N_OTHER},
    {"fcvt.d.w", fcvt_d_w, FROM_INT, DF, DF, 32, N_OTHER},
    {"fcvt.d.wu", fcvt_d_wu, FROM_INT, DF, DF, 32, N_OTHER},
    {"fcvt.d.l", fcvt_d_l, FROM_INT, DF, DF, 64, N_OTHER},
    {"fcvt.d.lu", fcvt_d_lu, FROM_INT, DF, DF, 64, N_OTHER},
    {"fcvt.s.d", fcvt_s_d, UNARY, DF, SF, 0, N_ARITH},
    {"fcvt.d.s", fcvt_d_s, UNARY, SF, DF, 0, N_OTHER},
};

static void print_value(u64 x, int w) {
    if (w == 32) printf(" %08llx", (unsigned long long)(u32)x);
    else printf(" %016llx", (unsigned long long)x);
}

/* The operand of a binary64 to binary32 conversion: often near binary32's underflow and
   overflow thresholds, and with 25 significant bits (ties). */
static u64 narrowing_operand(void) {
    int neg = (int)below(2);
    int field;
    switch (below(4)) {
    case 0: field = bias(D) - 126 - (int)below(28) + 1; break;   /* 2^-126 .. 2^-153 */
    case 1: field = bias(D) + 127 + (int)below(2); break;        /* around 2^128 */
    case 2: field = bias(D) - 30 + (int)below(60); break;
    default: return value(D, -1);
    }
    u64 frac = below(2) ? shortfrac(D, 22 + (int)below(4)) : randfrac(D);
    if (below(4) == 0) frac = ~0ull << below(30); /* runs of ones: carries */
    return pack(D, neg, field, frac);
}

/* Usage: generator [SCALE [SEED]]: SCALE multiplies every operation's count (default 1), SEED
   replaces the default seed. The committed vectors use the defaults. */
int main(int argc, char **argv) {
    long scale = argc > 1 ? strtol(argv[1], 0, 0) : 1;
    if (argc > 2) state = strtoull(argv[2], 0, 0) | 1;
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        const op *o = &ops[k];
        fmt f = o->in;
        for (long n = 0; n < o->count * scale; n++) {
            u64 a = 0, b = 0, c = 0;
            int operands = 1, modes = 5, width = f.w, result_width = f.w;
            switch (o->kind) {
            case BINARY:
            case NO_RM:
            case COMPARE:
                a = value(f, -1);
                b = below(2) ? value(f, field_of(f, a)) : value(f, -1);
                if (o->kind != BINARY && below(4) == 0) b = below(2) ? a : a ^ (1ull << (f.w - 1));
                if (o->kind == BINARY && below(2) == 0) {
                    if (strncmp(o->name, "fmul", 4) == 0 || strncmp(o->name, "fdiv", 4) == 0) mul_tie(f, &a, &b);
                    else add_tie(f, &a, &b);
                    if (strncmp(o->name, "fdiv", 4) == 0) { u64 t = a; a = b; b = t; }
                }
                operands = 2;
                if (o->kind != BINARY) modes = 1;
                if (o->kind == COMPARE) result_width = 64;
                break;
            case TERNARY: {
                a = value(f, -1);
                b = value(f, below(2) ? bias(f) + (int)below(5) - 2 : -1);
                /* An addend near the product: cancellation, ties and sticky bits. */
                int pf = field_of(f, a) + field_of(f, b) - bias(f);
                c = below(4) ? value(f, pf < 0 ? 0 : pf) : value(f, -1);
                if (below(2) == 0) fma_tie(f, &a, &b, &c);
                operands = 3;
                break;
            }
            case UNARY:
                a = f.w == 64 && o->out.w == 32 ? (below(3) ? narrowing_operand() : narrowing_tie()) : value(f, -1);
                result_width = o->out.w;
                break;
            case TO_INT: a = below(4) ? to_int_operand(f) : to_int_tie(f); result_width = 64; break;
            case FROM_INT: a = below(3) ? integer(o->iwidth) : from_int_tie(f, o->iwidth); width = 64; break;
            case CLASS: a = value(f, -1); modes = 1; result_width = 64; break;
            }
            printf("%s", o->name);
            print_value(a, width);
            if (operands >= 2) print_value(b, width);
            if (operands >= 3) print_value(c, width);
            for (int rm = 0; rm < modes; rm++) {
                clear_flags();
                u64 r = o->fn(a, b, c, rm);
                unsigned fl = read_flags();
                print_value(r, result_width);
                printf(" %x", fl);
            }
            printf("\n");
        }
    }
    return 0;
}
