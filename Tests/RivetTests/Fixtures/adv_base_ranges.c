/* Adversarial: loads and stores whose base register lies near the edges of the address space,
 * in blocks that compiled code runs many times (tier 1 checks a base register once per block
 * and lets later accesses from it go unchecked). Bases near 0 with negative offsets (which
 * would wrap below the space), just past the end with negative offsets back inside it (valid
 * when mapped: the top of the stack), past the end with positive offsets, and wrapped values
 * near 2^64. Each access either works or faults; the SIGSEGV handler prints the fault address
 * and the offending register (relative to an edge made with mmap and munmap; addresses past
 * 2^47 only as "high", and no fault address for a base there: qemu's x86-64 host reports 0).
 * (Nothing here may depend on the layout: Rivet's stack ends at 2^38, qemu's elsewhere.) Every tier, and qemu, must
 * agree, and none may touch host memory outside the guest's space. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

static sigjmp_buf back;
static unsigned long fault_address, seen_a0;
static int faults;

static void on_fault(int sig, siginfo_t *info, void *context) {
    (void)sig;
    ucontext_t *uc = context;
    fault_address = (unsigned long)info->si_addr;
    seen_a0 = uc->uc_mcontext.__gregs[10];
    faults++;
    siglongjmp(back, 1);
}

/* Loads at base - 2048, base + 2040 and base - 8, then stores the sum at base - 16: one
 * block, one base register. */
__attribute__((noinline)) static uint64_t poke(uintptr_t base) {
    register uintptr_t a0 __asm__("a0") = base;
    uint64_t sum;
    __asm__ volatile(
        "ld t0, -2048(a0)\n ld t1, 2040(a0)\n add t0, t0, t1\n ld t1, -8(a0)\n add %0, t0, t1\n sd %0, -16(a0)\n"
        : "=&r"(sum) : "r"(a0) : "t0", "t1", "memory");
    return sum;
}

/* An address relative to the edge when near it, as is below 2^47, else "high". */
static void show(unsigned long address, uintptr_t top) {
    if (address >= top - 65536 && address < top + 65536) {
        printf("edge%+ld", (long)(address - top));
    } else if (address < (1ul << 47)) {
        printf("%#lx", address);
    } else {
        printf("high");
    }
}

int main(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_fault;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &action, NULL);
    static uint64_t buffer[1024];
    char *pages = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(pages + 2 * 4096, 4096);
    uintptr_t top = (uintptr_t)pages + 2 * 4096;  /* mapped below, not above */
    const uintptr_t bases[] = {
        (uintptr_t)&buffer[512], 0, 8, 2040, 2048, 4096, 0x10000, top, top + 2048, top + 4096,
        ((uintptr_t)1 << 38) + 2048, ((uintptr_t)1 << 38) + 4096, ((uintptr_t)1 << 40) + 2040,
        UINTPTR_MAX, UINTPTR_MAX - 2047, (uintptr_t)1 << 63, ((uintptr_t)1 << 39) + 8,
    };
    const int count = sizeof bases / sizeof bases[0];
    uint64_t total = 0;
    for (int round = 0; round < 60; round++) {
        for (int k = 0; k < count; k++) {
            if (sigsetjmp(back, 1) == 0) {
                total += poke(bases[k]);
                if (round == 0) printf("base %d: ok\n", k);
            } else if (round == 0) {
                printf("base %d: fault at ", k);
                /* A fault past 2^47 (a wrapped or huge base) is reported as 0 by qemu's x86 host. */
                if (bases[k] >= (1ul << 47)) printf("any"); else show(fault_address, top);
                printf(", a0 ");
                show(seen_a0, top);
                printf("\n");
            }
        }
    }
    printf("faults %d, total %#llx\n", faults, (unsigned long long)total);
    return 0;
}
