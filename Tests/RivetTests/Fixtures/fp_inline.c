/* The float flags of arithmetic that a JIT runs on the host's SSE unit and folds into fflags
 * after a run of operations rather than after each: flags raised by several operations in one
 * block and read at its end, carried into the next block, accumulated over a loop, kept across
 * helper calls that raise none (exact conversions, fused multiply-adds, min/max, classify),
 * kept when the block leaves at a fault (a load from an unmapped page, a load from far outside
 * the address space) right after the operation, and mixed with dynamic rounding modes and
 * improperly boxed singles, whose operations take the slow way; and conversions at their edges
 * (NaNs of either sign, saturation, inexact and exact values). Each line prints results as raw
 * bits and fflags as read by the guest. */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

typedef uint64_t u64;

static u64 bits(double x) { u64 u; memcpy(&u, &x, 8); return u; }
static double dbl(u64 u) { double x; memcpy(&x, &u, 8); return x; }
static u64 take_flags(void) {
    u64 f;
    asm volatile("csrrw %0, fflags, zero" : "=r"(f));
    return f;
}

/* Several operations in one block, the flags read at its end: NX (1/3), OF|NX (max*2),
 * NV (sqrt -1), DZ (1/0), NV (feq with a signalling NaN), UF|NX (min normal * 0.5 ... inexact). */
static void one_block(int print) {
    take_flags();
    double one = 1.0, three = 3.0, max = dbl(0x7fefffffffffffffull), two = 2.0, minus = -1.0, zero = 0.0;
    double snan = dbl(0x7ff0000000000001ull), tiny = dbl(0x0010000000000001ull), third = 1.0 / 3.0;
    double r1, r2, r3, r4, r5;
    u64 eq, flags;
    asm volatile(
        "fdiv.d %0, %7, %8\n\t"
        "fmul.d %1, %9, %10\n\t"
        "fsqrt.d %2, %11\n\t"
        "fdiv.d %3, %7, %12\n\t"
        "feq.d %5, %13, %13\n\t"
        "fmul.d %4, %14, %15\n\t"
        "csrrw %6, fflags, zero\n\t"
        : "=&f"(r1), "=&f"(r2), "=&f"(r3), "=&f"(r4), "=&f"(r5), "=&r"(eq), "=&r"(flags)
        : "f"(one), "f"(three), "f"(max), "f"(two), "f"(minus), "f"(zero), "f"(snan), "f"(tiny), "f"(third));
    if (print) printf("one block: %016llx %016llx %016llx %016llx %016llx eq=%llu flags=%02llx\n", (unsigned long long)bits(r1),
           (unsigned long long)bits(r2), (unsigned long long)bits(r3), (unsigned long long)bits(r4),
           (unsigned long long)bits(r5), (unsigned long long)eq, (unsigned long long)flags);
}

/* The flags of an operation in one block, read in the next (a branch between). */
static void next_block(double a, double b, int print) {
    take_flags();
    double r;
    u64 flags;
    asm volatile(
        "fdiv.d %0, %2, %3\n\t"
        "beqz zero, 1f\n\t"
        "1: csrrw %1, fflags, zero\n\t"
        : "=&f"(r), "=&r"(flags) : "f"(a), "f"(b));
    if (print) printf("next block: %016llx flags=%02llx\n", (unsigned long long)bits(r), (unsigned long long)flags);
}

/* A loop of exact additions raises nothing; one inexact step among them raises NX. */
static void loops(int print) {
    take_flags();
    double sum = 0;
    for (int i = 0; i < 2000; i++) sum += 0.5;
    u64 exact = take_flags();
    double acc = 0;
    for (int i = 0; i < 2000; i++) acc += (i == 1000) ? 0.1 : 1.0;
    u64 inexact = take_flags();
    if (print) printf("loops: %016llx %02llx %016llx %02llx\n", (unsigned long long)bits(sum), (unsigned long long)exact,
           (unsigned long long)bits(acc), (unsigned long long)inexact);
}

/* Helper calls with exact results between inline operations: no flags. Then an inexact
 * operation before a helper call: its NX survives the call. */
static void helpers(int print) {
    take_flags();
    double one = 1.0, two = 2.0, three = 3.0, r1, r2, r3, r4, r5;
    u64 i1, c1, flags;
    asm volatile(
        "fadd.d %0, %10, %11\n\t"       /* 3, exact */
        "fcvt.d.w %1, %12\n\t"          /* 7, exact */
        "fmadd.d %2, %11, %13, %10\n\t" /* 2*3+1 = 7, exact */
        "fmin.d %3, %10, %11\n\t"
        "fcvt.w.d %5, %13, rtz\n\t"     /* 3, exact */
        "fclass.d %6, %11\n\t"
        "fmul.d %4, %11, %13\n\t"       /* 6, exact */
        "csrrw %7, fflags, zero\n\t"
        : "=&f"(r1), "=&f"(r2), "=&f"(r3), "=&f"(r4), "=&f"(r5), "=&r"(i1), "=&r"(c1), "=&r"(flags)
        : "r"(0), "f"(0.0), "f"(one), "f"(two), "r"(7), "f"(three));
    if (print) printf("helpers exact: %016llx %016llx %016llx %016llx %016llx %lld %llx flags=%02llx\n",
           (unsigned long long)bits(r1), (unsigned long long)bits(r2), (unsigned long long)bits(r3),
           (unsigned long long)bits(r4), (unsigned long long)bits(r5), (long long)i1, (unsigned long long)c1,
           (unsigned long long)flags);
    double q;
    u64 conv;
    asm volatile(
        "fdiv.d %0, %3, %4\n\t"     /* 1/3: NX, not yet folded */
        "fcvt.w.d %1, %4, rtz\n\t"  /* a helper, exact */
        "csrrw %2, fflags, zero\n\t"
        : "=&f"(q), "=&r"(conv), "=&r"(flags) : "f"(one), "f"(three));
    if (print) printf("helpers after: %016llx %lld flags=%02llx\n", (unsigned long long)bits(q), (long long)conv,
           (unsigned long long)flags);
}

/* Dynamic rounding modes: with frm = rtz the operations take the slow way, after one that ran
 * inline raised NX; a static rtz too. */
static void modes(int print) {
    take_flags();
    double one = 1.0, ten = 10.0, r1, r2, r3;
    u64 flags;
    asm volatile(
        "fdiv.d %0, %4, %5\n\t"          /* 0.1, rne, inline: NX */
        "fsrmi 1\n\t"                    /* rtz */
        "fdiv.d %1, %4, %5\n\t"          /* dyn: the helper, rounding toward zero */
        "fsrmi 0\n\t"
        "fdiv.d %2, %4, %5, rtz\n\t"     /* static rtz: the helper */
        "csrrw %3, fflags, zero\n\t"
        : "=&f"(r1), "=&f"(r2), "=&f"(r3), "=&r"(flags) : "f"(one), "f"(ten));
    if (print) printf("modes: %016llx %016llx %016llx flags=%02llx\n", (unsigned long long)bits(r1),
           (unsigned long long)bits(r2), (unsigned long long)bits(r3), (unsigned long long)flags);
}

/* Singles: an inexact operation, then one with an operand that is not NaN-boxed (read as the
 * canonical NaN: no flag of its own), then a comparison with a quiet NaN (flt: NV). */
static void singles(int print) {
    take_flags();
    float one = 1.0f, three = 3.0f;
    u64 unboxed = 0x3ff0000000000000ull; /* a double in the register */
    float r1, r2;
    u64 lt, flags, b1, b2;
    asm volatile(
        "fdiv.s %0, %5, %6\n\t"
        "fmv.d.x ft0, %7\n\t"
        "fadd.s %1, ft0, %5\n\t"
        "fmv.x.w %3, %0\n\t"
        "fmv.x.w %4, %1\n\t"
        "csrrw %2, fflags, zero\n\t"
        : "=&f"(r1), "=&f"(r2), "=&r"(flags), "=&r"(b1), "=&r"(b2) : "f"(one), "f"(three), "r"(unboxed) : "ft0");
    float qnan;
    u64 qbits = 0xffffffff7fc00001ull;
    asm volatile("fmv.d.x %0, %1" : "=f"(qnan) : "r"(qbits));
    u64 flags2;
    asm volatile("flt.s %0, %2, %3\n\tcsrrw %1, fflags, zero" : "=&r"(lt), "=&r"(flags2) : "f"(qnan), "f"(one));
    if (print) printf("singles: %08llx %08llx flags=%02llx lt=%llu flags=%02llx\n", (unsigned long long)(b1 & 0xffffffff),
           (unsigned long long)(b2 & 0xffffffff), (unsigned long long)flags, (unsigned long long)lt,
           (unsigned long long)flags2);
}

/* Conversions toward zero (C's casts) at the edges: NaNs of both signs, infinities, the limits
 * and one past them, a fraction; from integers (inexact longs, unsigned words); between
 * singles and doubles (a signalling NaN, overflow, underflow, a payload). */
static void conversions(int print) {
    static const u64 doubles[] = {
        0x7ff8000000000000ull, 0xfff8000000000000ull, 0x7ff0000000000001ull, 0x7ff0000000000000ull,
        0xfff0000000000000ull, 0xc1e0000000000000ull /* -2^31 */, 0xc1e0000000200000ull /* -2^31-1 */,
        0x41e0000000000000ull /* 2^31 */, 0x41dfffffffc00000ull /* 2^31-1 */, 0xc3e0000000000000ull /* -2^63 */,
        0x43e0000000000000ull /* 2^63 */, 0xbff8000000000000ull /* -1.5 */, 0x3fe0000000000000ull, 0x8000000000000000ull,
    };
    for (unsigned k = 0; k < sizeof doubles / sizeof doubles[0]; k++) {
        double x = dbl(doubles[k]);
        u64 w, l, fw, fl, s, fs, sw, fsw;
        take_flags();
        asm volatile("fcvt.w.d %0, %1, rtz" : "=r"(w) : "f"(x));
        fw = take_flags();
        asm volatile("fcvt.l.d %0, %1, rtz" : "=r"(l) : "f"(x));
        fl = take_flags();
        float single;
        asm volatile("fcvt.s.d %0, %1" : "=f"(single) : "f"(x));
        fs = take_flags();
        asm volatile("fmv.x.w %0, %1" : "=r"(s) : "f"(single));
        asm volatile("fcvt.w.s %0, %1, rtz" : "=r"(sw) : "f"(single));
        fsw = take_flags();
        if (print) printf("to int %016llx: w=%016llx %02llx l=%016llx %02llx s=%08llx %02llx sw=%016llx %02llx\n",
                          (unsigned long long)doubles[k], (unsigned long long)w, (unsigned long long)fw,
                          (unsigned long long)l, (unsigned long long)fl, (unsigned long long)(s & 0xffffffff),
                          (unsigned long long)fs, (unsigned long long)sw, (unsigned long long)fsw);
    }
    static const u64 integers[] = {0, 1, 0xffffffffull, 0x80000000ull, 0x20000000000001ull, 0x1000001ull,
                                   0xffffffffffffffffull, 0x8000000000000000ull, 0x7fffffffffffffffull};
    for (unsigned k = 0; k < sizeof integers / sizeof integers[0]; k++) {
        u64 n = integers[k], fdw, fdwu, fdl, fsw2, fswu, fsl;
        double dw, dwu, dl;
        float sw2, swu, sl;
        take_flags();
        asm volatile("fcvt.d.w %0, %1" : "=f"(dw) : "r"(n));
        fdw = take_flags();
        asm volatile("fcvt.d.wu %0, %1" : "=f"(dwu) : "r"(n));
        fdwu = take_flags();
        asm volatile("fcvt.d.l %0, %1" : "=f"(dl) : "r"(n));
        fdl = take_flags();
        asm volatile("fcvt.s.w %0, %1" : "=f"(sw2) : "r"(n));
        fsw2 = take_flags();
        asm volatile("fcvt.s.wu %0, %1" : "=f"(swu) : "r"(n));
        fswu = take_flags();
        asm volatile("fcvt.s.l %0, %1" : "=f"(sl) : "r"(n));
        fsl = take_flags();
        u64 b1, b2, b3;
        asm volatile("fmv.x.w %0, %1" : "=r"(b1) : "f"(sw2));
        asm volatile("fmv.x.w %0, %1" : "=r"(b2) : "f"(swu));
        asm volatile("fmv.x.w %0, %1" : "=r"(b3) : "f"(sl));
        if (print) printf("from int %016llx: %016llx %02llx %016llx %02llx %016llx %02llx %08llx %02llx %08llx %02llx %08llx %02llx\n",
                          (unsigned long long)n, (unsigned long long)bits(dw), (unsigned long long)fdw,
                          (unsigned long long)bits(dwu), (unsigned long long)fdwu, (unsigned long long)bits(dl),
                          (unsigned long long)fdl, (unsigned long long)(b1 & 0xffffffff), (unsigned long long)fsw2,
                          (unsigned long long)(b2 & 0xffffffff), (unsigned long long)fswu,
                          (unsigned long long)(b3 & 0xffffffff), (unsigned long long)fsl);
    }
    static const uint32_t singles_in[] = {0x7f800001u, 0xffc00000u, 0x7fc01234u, 0x00000001u, 0x7f7fffffu, 0x80000000u};
    for (unsigned k = 0; k < sizeof singles_in / sizeof singles_in[0]; k++) {
        u64 boxed = 0xffffffff00000000ull | singles_in[k], f1;
        float v;
        double d;
        asm volatile("fmv.d.x %0, %1" : "=f"(v) : "r"(boxed));
        take_flags();
        asm volatile("fcvt.d.s %0, %1" : "=f"(d) : "f"(v));
        f1 = take_flags();
        if (print) printf("promote %08x: %016llx %02llx\n", singles_in[k], (unsigned long long)bits(d), (unsigned long long)f1);
    }
}

/* A fault right after an inline operation in the same block: the handler reads fflags. The
 * addresses: page zero and one far outside the address space (which a JIT's range check
 * catches), and a page unmapped in the middle of it (which only the host's fault does). */
static sigjmp_buf jump;
static volatile u64 handler_flags;
static void on_segv(int sig, siginfo_t *info, void *context) {
    (void)sig; (void)info; (void)context;
    u64 f;
    asm volatile("csrr %0, fflags" : "=r"(f));
    handler_flags = f;
    siglongjmp(jump, 1);
}
static void fault_after(const char *name, u64 address, int print) {
    take_flags();
    handler_flags = 0xff;
    double one = 1.0, three = 3.0, r;
    if (sigsetjmp(jump, 1) == 0) {
        u64 loaded;
        asm volatile(
            "fdiv.d %0, %2, %3\n\t"
            "ld %1, 0(%4)\n\t"
            : "=&f"(r), "=&r"(loaded) : "f"(one), "f"(three), "r"(address) : "memory");
        if (print) printf("%s: no fault\n", name);
    }
    if (print) printf("%s: flags in the handler=%02llx\n", name, (unsigned long long)handler_flags);
    take_flags();
}

int main(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_segv;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &action, 0);
    char *pages = mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(pages + 4096, 4096);
    u64 hole = (u64)(pages + 4096 + 64);
    /* Many runs, the last printed: the first ones interpreted, later ones compiled (at any
     * threshold, and in loops hot enough for the optimizing tier). */
    for (int k = 0; k < 300; k++) {
        int print = k == 299;
        one_block(print);
        next_block(1.0, 3.0, print);
        next_block(1.0, 4.0, print);
        loops(print);
        helpers(print);
        modes(print);
        singles(print);
        conversions(print);
        fault_after("unmapped", 0x8, print);
        fault_after("far", 0x7fff000000000000ull, print);
        fault_after("hole", hole, print);
    }
    return 0;
}
