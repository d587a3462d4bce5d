/* Hot loops that call functions, which tier 2 takes into its regions (a call goes on in the
 * callee, a return at the call's continuation when it returns there). Every way a return can
 * go elsewhere is here, each in a loop hot enough for tier 2 (at once under --tier opt, after
 * a while under auto):
 *  - one leaf function called from two sites of one loop (its return compares both);
 *  - fmaxf/fminf, which glibc writes with fclass (and fclass itself on every class of single
 *    and double, a single that is not NaN-boxed among them);
 *  - a function that returns past the instruction after its call (ra + 4);
 *  - recursion;
 *  - longjmp out of a callee to a setjmp in the loop;
 *  - a callee that faults: the handler prints pc, ra and the argument registers, so the state
 *    tier 2 rebuilds inside an inlined callee is checked against qemu.
 * Every tier, and qemu, must agree. */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#define NOINLINE __attribute__((noinline))

static NOINLINE long mix(long a, long b) { return (a ^ (b * 0x9e3779b97f4a7c15L)) + (a >> 7); }

static NOINLINE long two_sites(long n) {
    long a = 1, b = 2;
    for (long i = 0; i < n; i++) {
        a = mix(a, i);
        b = mix(b, a + i);
    }
    return a ^ b;
}

static NOINLINE float clamp_sum(const float *v, int n, float lo, float hi) {
    float s = 0;
    for (int i = 0; i < n; i++) s += fminf(fmaxf(v[i], lo), hi);
    return s;
}

static NOINLINE double clamp_sum_d(const double *v, int n, double lo, double hi) {
    double s = 0;
    for (int i = 0; i < n; i++) s += fmin(fmax(v[i], lo), hi);
    return s;
}

static long fclass_s(float x) {
    long r;
    __asm__ volatile("fclass.s %0, %1" : "=r"(r) : "f"(x));
    return r;
}

static long fclass_d(double x) {
    long r;
    __asm__ volatile("fclass.d %0, %1" : "=r"(r) : "f"(x));
    return r;
}

/* fclass.s of the raw 64 bits `bits` in an f register (not NaN-boxed unless the upper half is
 * all ones). */
static long fclass_s_raw(uint64_t bits) {
    long r;
    __asm__ volatile("fmv.d.x ft0, %1\n\tfclass.s %0, ft0" : "=r"(r) : "r"(bits) : "ft0");
    return r;
}

static NOINLINE long classify_all(long rounds) {
    static const uint32_t singles[] = {0xff800000, 0xbf800000, 0x80000001, 0x80000000, 0x00000000, 0x007fffff,
                                       0x3f800000, 0x7f800000, 0x7f800001, 0x7fc00000, 0xffc00000, 0x00800000,
                                       0x807fffff, 0x7fbfffff, 0xff800001, 0x7f7fffff};
    static const uint64_t doubles[] = {0xfff0000000000000, 0xbff0000000000000, 0x8000000000000001,
                                       0x8000000000000000, 0x0000000000000000, 0x000fffffffffffff,
                                       0x3ff0000000000000, 0x7ff0000000000000, 0x7ff0000000000001,
                                       0x7ff8000000000000, 0xfff8000000000000, 0x0010000000000000,
                                       0x800fffffffffffff, 0x7ff7ffffffffffff, 0xfff0000000000001,
                                       0x7fefffffffffffff};
    static const uint64_t raw[] = {0xffffffff3f800000, 0x000000003f800000, 0xfffffffe3f800000,
                                   0xffffffff7f800001, 0x7fffffffffffffff};
    long sum = 0;
    for (long k = 0; k < rounds; k++) {
        for (int i = 0; i < 16; i++) {
            float f;
            double d;
            memcpy(&f, &singles[i], 4);
            memcpy(&d, &doubles[i], 8);
            sum = sum * 3 + fclass_s(f) + 7 * fclass_d(d);
        }
        for (int i = 0; i < 5; i++) sum = sum * 5 + fclass_s_raw(raw[i]);
    }
    return sum;
}

/* skip_next(x) returns x + 1, to the instruction after the one its call returns to. */
__asm__(".text\n"
        ".globl skip_next\n"
        "skip_next:\n"
        "  addi a0, a0, 1\n"
        "  addi ra, ra, 4\n"
        "  ret\n");

static NOINLINE long skipping(long n) {
    long total = 0;
    for (long i = 0; i < n; i++) {
        long r;
        __asm__ volatile(".option push\n\t.option norvc\n\t"
                         "mv a0, %1\n\t"
                         "jal ra, skip_next\n\t"
                         "addi a0, a0, 100\n\t"
                         "mv %0, a0\n\t"
                         ".option pop"
                         : "=r"(r)
                         : "r"(i)
                         : "ra", "a0");
        total += r;
    }
    return total;
}

static NOINLINE long fib(long n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static jmp_buf env;

static NOINLINE void maybe_jump(long i) {
    if ((i & 255) == 255) longjmp(env, (int)(i & 0xffff) | 1);
}

static NOINLINE long jumping(long n) {
    volatile long total = 0;
    for (volatile long i = 0; i < n; i++) {
        int back = setjmp(env);
        if (back == 0) {
            maybe_jump(i);
            total += i;
        } else {
            total += back;
        }
    }
    return total;
}

enum { PAGES = 16, LONGS = PAGES * 4096 / 8 };

static sigjmp_buf fault_back;
static unsigned long seen[32];
static unsigned long fault_pc;

static void on_fault(int sig, siginfo_t *info, void *context) {
    (void)sig;
    (void)info;
    ucontext_t *uc = context;
    for (int r = 0; r < 32; r++) seen[r] = uc->uc_mcontext.__gregs[r];
    fault_pc = uc->uc_mcontext.__gregs[REG_PC];
    siglongjmp(fault_back, 1);
}

static NOINLINE void put(long *p, long i, long v) { p[i] = v ^ (i << 3); }

static NOINLINE long filling(long *p, long n) {
    long a = 7;
    for (long i = 0; i < n; i++) {
        a = a * 6364136223846793005L + 1442695040888963407L;
        put(p, i, a);
    }
    return a;
}

int main(void) {
    printf("two sites %ld\n", two_sites(3000000));

    static float fv[1000];
    static double dv[1000];
    for (int i = 0; i < 1000; i++) {
        fv[i] = (float)((i * 37) % 301) - 150.0f;
        dv[i] = (double)((i * 53) % 401) - 200.0;
    }
    fv[7] = NAN;
    dv[9] = NAN;
    fv[11] = -0.0f;
    float fs = 0;
    double ds = 0;
    for (int r = 0; r < 300; r++) {
        fs += clamp_sum(fv, 1000, -100.0f, 100.0f);
        ds += clamp_sum_d(dv, 1000, -120.0, 120.0);
    }
    printf("clamped %a %a\n", fs, ds);

    printf("classes %ld\n", classify_all(20000));
    printf("skipping %ld\n", skipping(2000000));
    long f = 0;
    for (int i = 0; i < 30; i++) f += fib(20);
    printf("fib %ld\n", f);
    printf("jumping %ld\n", jumping(300000));

    char *base = mmap(NULL, (PAGES + 1) * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return 1;
    if (mprotect(base + PAGES * 4096, 4096, PROT_READ) != 0) return 2;
    long *p = (long *)base;
    long total = 0;
    for (int round = 0; round < 100; round++) total += filling(p, LONGS - round);
    printf("filled %ld %ld\n", total, p[LONGS / 2]);
    struct sigaction sa = {0};
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    if (sigsetjmp(fault_back, 1) == 0) {
        filling(p + 3, LONGS);
        printf("no fault\n");
        return 3;
    }
    printf("fault pc put+%lu ra filling+%lu\n", fault_pc - (unsigned long)(uintptr_t)put,
           seen[1] - (unsigned long)(uintptr_t)filling);
    printf("a0 base+%lx a1 %lu a2 %lx\n", seen[10] - (unsigned long)base, seen[11], seen[12]);
    return 0;
}
