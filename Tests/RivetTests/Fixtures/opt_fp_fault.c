/* A hot floating-point loop (tier 2 compiles it: at once under --tier opt, and under auto once it
 * has run long enough) divides, multiplies, adds, takes square roots and compares, and raises
 * flags: inexact everywhere, divide by zero where a divisor is 0, invalid for 0/0. fflags is
 * printed after the warm-up rounds; then it is cleared, and a last round reads past its array
 * into an inaccessible page. The handler prints the fault address, fcsr and every f register
 * from the ucontext, so the flags the compiled code raised before the fault (which tier 2 keeps
 * in the host's MXCSR) and the float values it held in host registers are checked against qemu.
 * Every tier, and qemu, must agree.
 * (Without contraction: tier 2 does not model fused multiply-add yet, and the loop is for it.)
 * rivet-fixture: cflags -fno-math-errno -ffp-contract=off */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

enum { PAGES = 16, DOUBLES = PAGES * 4096 / 8 };

static sigjmp_buf back;
static unsigned long long fregs[32];
static unsigned int fault_fcsr;
static unsigned long fault_address;

static void on_fault(int sig, siginfo_t *info, void *context) {
    (void)sig;
    ucontext_t *uc = context;
    memcpy(fregs, uc->uc_mcontext.__fpregs.__d.__f, sizeof fregs);
    fault_fcsr = uc->uc_mcontext.__fpregs.__d.__fcsr;
    fault_address = (unsigned long)info->si_addr;
    siglongjmp(back, 1);
}

static unsigned long flags(void) {
    unsigned long f;
    __asm__ volatile("frflags %0" : "=r"(f));
    return f;
}

static void clear_flags(void) { __asm__ volatile("fsflags zero"); }

static unsigned long long bits(double d) {
    unsigned long long u;
    memcpy(&u, &d, sizeof u);
    return u;
}

__attribute__((noinline)) static double run(const double *x, const double *y, long n, double scale) {
    double s = 0, t = 1, u = 0;
    for (long i = 0; i < n; i++) {
        double d = x[i] / y[i];
        if (d != d || d > 1e300 || d < -1e300) {  /* NaN or infinite: the flags stay */
            s *= 0.5;
            continue;
        }
        s += d * scale;
        t = t * 0.5 + d;
        u += __builtin_sqrt(__builtin_fabs(d));
    }
    return s + t * 3 - u;
}

int main(void) {
    char *base = mmap(NULL, (2 * PAGES + 1) * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return 1;
    double *x = (double *)base;
    double *y = (double *)(base + PAGES * 4096);
    if (mprotect(base + 2 * PAGES * 4096, 4096, PROT_NONE) != 0) return 2;
    for (long i = 0; i < DOUBLES; i++) {
        x[i] = (double)(i % 97) - 40.5 + (double)i / 7.0;
        y[i] = (double)(i % 13) - 6.0;  /* 0 every 13th: divide by zero */
    }
    x[19] = 0;  /* 0/0 at 19 (y[19] = 0): invalid, a NaN */
    struct sigaction sa = {0};
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);

    clear_flags();
    double total = 0;
    for (int round = 0; round < 300; round++) total += run(x + (round & 31), y + (round & 31), DOUBLES - 64, 1.0 / (round + 3));
    printf("total %016llx fflags %02lx\n", bits(total), flags());

    clear_flags();
    /* Five divisions by -5...-1: inexact, nothing else. */
    printf("partial %016llx fflags %02lx\n", bits(run(x + 1, y + 1, 5, 0.25)), flags());
    clear_flags();
    if (sigsetjmp(back, 1) == 0) {
        total += run(x + 5, y + 5, DOUBLES, 0.5);
        printf("no fault %016llx\n", bits(total));
        return 3;
    }
    printf("fault at y+%lu, fcsr %02x\n", fault_address - (unsigned long)y, fault_fcsr);
    for (int r = 0; r < 32; r++) printf("f%d %016llx\n", r, fregs[r]);
    return 0;
}
