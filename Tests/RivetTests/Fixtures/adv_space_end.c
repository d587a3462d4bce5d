/* Adversarial: loads at the end of Rivet's address space (2^38, where its stack ends), from
 * hot loops that every tier compiles. Tier 2 checks a base register once and folds offsets of
 * 0...2047 into the access (the guard region after the space catches what runs past the end),
 * tier 1 checks a base once per block, the interpreter checks every access: all must fault at
 * the same address, and none may read host memory. Bases just below the end with offsets that
 * cross it, at the end, past it, near 0 and wrapped near 2^64; negative offsets too. Only
 * aligned 8-byte loads (a load that straddles the end is a question of its own), and no value
 * read is printed (the top of the stack holds the environment).
 * rivet-fixture: no-qemu  (qemu's address space does not end at 2^38) */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static sigjmp_buf back;
static volatile unsigned long fault_address;

static void on_fault(int sig, siginfo_t *info, void *context) {
    (void)sig;
    (void)context;
    fault_address = (unsigned long)info->si_addr;
    siglongjmp(back, 1);
}

/* `rounds` loads of `offset(a0)` in a loop of its own. */
#define LOADER(name, offset)                                                             \
    __attribute__((noinline)) static uint64_t name(uintptr_t base, int rounds) {          \
        uint64_t sum = 0;                                                                 \
        for (int i = 0; i < rounds; i++) {                                                \
            register uintptr_t a0 __asm__("a0") = base;                                   \
            uint64_t x;                                                                   \
            __asm__ volatile("ld %0, " #offset "(a0)" : "=r"(x) : "r"(a0) : "memory");   \
            sum += x;                                                                     \
        }                                                                                 \
        return sum;                                                                       \
    }
LOADER(load0, 0)
LOADER(load8, 8)
LOADER(load2040, 2040)
LOADER(loadMinus8, -8)
LOADER(loadMinus2048, -2048)

static const uintptr_t top = (uintptr_t)1 << 38;

static void show(unsigned long address) {
    if (address >= top - 65536 && address < top + 65536) {
        printf("top%+ld", (long)(address - top));
    } else if (address < 65536) {
        printf("%#lx", address);
    } else {
        printf("far");
    }
}

static void try(const char *name, uint64_t (*load)(uintptr_t, int), long offset, uintptr_t base) {
    printf("%s from ", name);
    show(base);
    printf(": ");
    if (sigsetjmp(back, 1) == 0) {
        (void)load(base, 400);
        printf("ok (");
        show(base + (uintptr_t)offset);
        printf(")\n");
    } else {
        printf("fault at ");
        show(fault_address);
        printf("\n");
    }
}

int main(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_fault;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &action, NULL);
    for (int round = 0; round < 2; round++) {
        printf("round %d\n", round);
        try("ld 0", load0, 0, top - 8);
        try("ld 0", load0, 0, top);
        try("ld 0", load0, 0, top + 8);
        try("ld 8", load8, 8, top - 16);
        try("ld 8", load8, 8, top - 8);
        try("ld 8", load8, 8, top);
        try("ld 8", load8, 8, top + 4096);
        try("ld 8", load8, 8, UINTPTR_MAX - 7);
        try("ld 2040", load2040, 2040, top - 4096);
        try("ld 2040", load2040, 2040, top - 2048);
        try("ld 2040", load2040, 2040, top - 2040);
        try("ld 2040", load2040, 2040, top - 8);
        try("ld 2040", load2040, 2040, top + 2048);
        try("ld 2040", load2040, 2040, UINTPTR_MAX - 2047);
        try("ld -8", loadMinus8, -8, top);
        try("ld -8", loadMinus8, -8, top + 8);
        try("ld -8", loadMinus8, -8, 8);
        try("ld -8", loadMinus8, -8, 0);
        try("ld -2048", loadMinus2048, -2048, top + 2048);
        try("ld -2048", loadMinus2048, -2048, top + 2056);
        try("ld -2048", loadMinus2048, -2048, 2048);
    }
    return 0;
}
