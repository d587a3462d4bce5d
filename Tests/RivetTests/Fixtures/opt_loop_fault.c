/* A hot loop that keeps its values in registers (tier 2 compiles it: at once under --tier opt,
 * and under auto once it has run long enough) writes through an array that ends at a read-only
 * page. The last round runs into it: the handler prints the fault address and every register
 * from the ucontext, so the state rebuilt from tier 2's fault metadata is checked against qemu.
 * Every tier, and qemu, must agree. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <ucontext.h>

enum { PAGES = 64, LONGS = PAGES * 4096 / 8 };

static sigjmp_buf back;
static unsigned long seen[32];
static unsigned long fault_pc, fault_address;

static void on_fault(int sig, siginfo_t *info, void *context) {
    (void)sig;
    ucontext_t *uc = context;
    for (int r = 0; r < 32; r++) seen[r] = uc->uc_mcontext.__gregs[r];
    fault_pc = uc->uc_mcontext.__gregs[REG_PC];
    fault_address = (unsigned long)info->si_addr;
    siglongjmp(back, 1);
}

__attribute__((noinline)) static long fill(long *p, long n, long seed) {
    long a = seed, b = 1, c = 0;
    for (long i = 0; i < n; i++) {
        a = a * 6364136223846793005L + 1442695040888963407L;
        b ^= a >> 17;
        c += b & 0xff;
        p[i] = a ^ c;
    }
    return a + b + c;
}

int main(void) {
    char *base = mmap(NULL, (PAGES + 1) * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return 1;
    if (mprotect(base + PAGES * 4096, 4096, PROT_READ) != 0) return 2;
    struct sigaction sa = {0};
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    long *p = (long *)base;
    long total = 0;
    for (int round = 0; round < 400; round++) total += fill(p, LONGS - round, round);
    printf("total %ld, p[100] %ld\n", total, p[100]);
    if (sigsetjmp(back, 1) == 0) {
        total += fill(p + 17, LONGS, 12345);
        printf("no fault\n");
        return 3;
    }
    printf("fault at page offset %lu, pc fill+%lu\n", fault_address - (unsigned long)base,
           fault_pc - (unsigned long)(uintptr_t)fill);
    for (int r = 1; r < 32; r++) {
        if (r == 2 || r == 3 || r == 4) continue;  // sp, gp, tp: addresses
        // Addresses differ between runners: into the array, or near the stack, relative.
        unsigned long v = seen[r], b = (unsigned long)base, sp = seen[2];
        if (v >= b && v < b + (PAGES + 1) * 4096) {
            printf("x%d base+%lx\n", r, v - b);
        } else if (v - sp + (1ul << 20) < (2ul << 20)) {
            printf("x%d sp%+ld\n", r, (long)(v - sp));
        } else {
            printf("x%d %lx\n", r, v);
        }
    }
    printf("p[%d] %ld\n", LONGS - 18, p[LONGS - 18]);
    return 0;
}
