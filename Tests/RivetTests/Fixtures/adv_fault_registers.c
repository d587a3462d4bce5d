/* Adversarial: the registers a signal handler sees at a fault inside a block that compiled code
 * keeps in host registers. The block sets many registers, updates them (so the JIT caches them)
 * and faults midway; the handler prints them from the ucontext, with the faulting pc's offset.
 * Run 100 times, so that every tier compiles the block. Every tier, and qemu, must agree. A
 * second block faults the same way at an address past the address space. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <ucontext.h>

static sigjmp_buf back;
static unsigned long seen[32];
static unsigned long fault_pc;
extern char faulting_block[], faulting_far[];

static void on_fault(int sig, siginfo_t *info, void *context) {
    (void)sig, (void)info;
    ucontext_t *uc = context;
    for (int r = 0; r < 32; r++) seen[r] = uc->uc_mcontext.__gregs[r];
    fault_pc = uc->uc_mcontext.__gregs[REG_PC];
    siglongjmp(back, 1);
}

__attribute__((noinline)) static void run_block(void) {
    __asm__ volatile(
        ".globl faulting_block\n"
        "faulting_block:\n"
        "li t0, 0x1001\n li t1, 0x2002\n li t2, 0x3003\n li a1, 0x4004\n li a2, 0x5005\n"
        "li a3, 0x6006\n li a4, 0x7007\n li a5, 0x8008\n li a6, 0x9009\n li a7, 0xa00a\n"
        "li s2, 0xb00b\n li s3, 0xc00c\n li s4, 0xd00d\n li t3, 0xe00e\n li t4, 0xf00f\n"
        "add t0, t0, t1\n add t1, t1, t2\n add t2, t2, a1\n add a1, a1, a2\n add a2, a2, a3\n"
        "add a3, a3, a4\n add a4, a4, a5\n add a5, a5, a6\n add a6, a6, a7\n add a7, a7, s2\n"
        "add s2, s2, s3\n add s3, s3, s4\n add s4, s4, t3\n add t3, t3, t4\n add t4, t4, t0\n"
        "xor t0, t0, a7\n xor t1, t1, s2\n"
        "ld a0, 8(zero)\n"
        "add t0, t0, t0\n add t1, t1, t1\n"
        ::: "t0", "t1", "t2", "t3", "t4", "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "memory");
}

__attribute__((noinline)) static void run_far(void) {
    __asm__ volatile(
        ".globl faulting_far\n"
        "faulting_far:\n"
        "li t0, 0x1001\n li t1, 0x2002\n li t2, 0x3003\n li a1, 0x4004\n li a2, 0x5005\n"
        "li a3, 0x6006\n li a4, 0x7007\n li a5, 0x8008\n li a6, 0x9009\n li a7, 0xa00a\n"
        "li s2, 0xb00b\n li s3, 0xc00c\n li s4, 0xd00d\n li t3, 0xe00e\n li t4, 0xf00f\n"
        "add t0, t0, t1\n add t1, t1, t2\n add t2, t2, a1\n add a1, a1, a2\n add a2, a2, a3\n"
        "add a3, a3, a4\n add a4, a4, a5\n add a5, a5, a6\n add a6, a6, a7\n add a7, a7, s2\n"
        "add s2, s2, s3\n add s3, s3, s4\n add s4, s4, t3\n add t3, t3, t4\n add t4, t4, t0\n"
        "xor t0, t0, a7\n xor t1, t1, s2\n"
        "li a0, -4096\n ld a0, 0(a0)\n"
        "add t0, t0, t0\n add t1, t1, t1\n"
        ::: "t0", "t1", "t2", "t3", "t4", "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "memory");
}

/* Runs `block` 100 times (every tier compiles it) and prints what the handler saw at its
 * fault, as an offset from `start`. */
static void rounds(void (*block)(void), const char *name, const char *start) {
    unsigned long first[32];
    int same = 1;
    for (int round = 0; round < 100; round++) {
        if (sigsetjmp(back, 1) == 0) block();
        if (round == 0) {
            for (int r = 0; r < 32; r++) first[r] = seen[r];
        } else {
            for (int r = 1; r < 32; r++)
                if (seen[r] != first[r]) same = 0;
        }
    }
    printf("fault at %s+%lu\n", name, fault_pc - (uintptr_t)start);
    const int shown[] = {5, 6, 7, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 28, 29};
    for (unsigned k = 0; k < sizeof shown / sizeof *shown; k++) printf("x%-2d = %#lx\n", shown[k], seen[shown[k]]);
    printf("every round saw the same: %s\n", same ? "yes" : "no");
}

int main(void) {
    struct sigaction action = {0};
    action.sa_sigaction = on_fault;
    action.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &action, NULL);
    /* A page without access (the host faults), then an address past the guest's address
     * space (the code's bounds check leaves: tier 2's shared bounds-fault code). */
    rounds(run_block, "faulting_block", faulting_block);
    rounds(run_far, "faulting_far", faulting_far);
    return 0;
}
