/* Adversarial: registers a block writes before it reads them, at a fault before that write.
 * The baseline JIT does not load such a register at the block's entry (its slot holds it until
 * the write), so at a fault, a bounds exit or a helper call before the write the register must
 * come from its slot, and after the write from its host register. Each block below starts at
 * a taken branch (a block of its own in every tier), writes t0 first and uses it often enough
 * to be kept in a host register, and faults before, at or after that write. Run 100 times, so
 * that every tier compiles the blocks; every tier, and qemu, must agree. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <ucontext.h>

static sigjmp_buf back;
static unsigned long seen[32];
static unsigned long fault_pc;
extern char before_write[], at_write[], past_space[], after_helper[], helper_then_fault[];

static void on_fault(int sig, siginfo_t *info, void *context) {
    (void)sig, (void)info;
    ucontext_t *uc = context;
    for (int r = 0; r < 32; r++) seen[r] = uc->uc_mcontext.__gregs[r];
    fault_pc = uc->uc_mcontext.__gregs[REG_PC];
    siglongjmp(back, 1);
}

#define SETUP "li t0, 0x1001\n li t1, 0x2002\n li t2, 0x3003\n li a0, -4096\n li a1, 0x5005\n li a2, 0x6006\n"
#define CLOBBERS "t0", "t1", "t2", "a0", "a1", "a2", "memory"

/* The fault (page 0) comes first; t0 is written after it. */
__attribute__((noinline)) static void run_before(void) {
    __asm__ volatile(SETUP "bnez t1, before_write\n nop\n"
                     ".globl before_write\n before_write:\n"
                     "ld a1, 8(zero)\n add t0, t1, t2\n add t0, t0, t1\n add t0, t0, t2\n add a2, t0, t0\n"
                     ::: CLOBBERS);
}

/* The first write of t0 is the access that faults. */
__attribute__((noinline)) static void run_at(void) {
    __asm__ volatile(SETUP "bnez t1, at_write\n nop\n"
                     ".globl at_write\n at_write:\n"
                     "ld t0, 8(zero)\n add t0, t0, t1\n add t0, t0, t2\n add a2, t0, t0\n"
                     ::: CLOBBERS);
}

/* An address past the guest's address space: the JIT's bounds check leaves before the write. */
__attribute__((noinline)) static void run_past(void) {
    __asm__ volatile(SETUP "bnez t1, past_space\n nop\n"
                     ".globl past_space\n past_space:\n"
                     "ld a1, 0(a0)\n add t0, t1, t2\n add t0, t0, t1\n add t0, t0, t2\n add a2, t0, t0\n"
                     ::: CLOBBERS);
}

/* A helper call (a CSR read) before the write, the fault after it: t0 holds the sum. */
__attribute__((noinline)) static void run_after(void) {
    __asm__ volatile(SETUP "bnez t1, after_helper\n nop\n"
                     ".globl after_helper\n after_helper:\n"
                     "csrr a1, fflags\n add t0, t1, t2\n add t0, t0, t1\n ld a2, 8(zero)\n add t0, t0, t2\n add a2, t0, t0\n"
                     ::: CLOBBERS);
}

/* A helper call before the fault, both before the write: the call must not store t0. */
__attribute__((noinline)) static void run_helper_then_fault(void) {
    __asm__ volatile(SETUP "bnez t1, helper_then_fault\n nop\n"
                     ".globl helper_then_fault\n helper_then_fault:\n"
                     "csrr a1, fflags\n ld a2, 8(zero)\n add t0, t1, t2\n add t0, t0, t1\n add t0, t0, t2\n add a2, t0, t0\n"
                     ::: CLOBBERS);
}

static void rounds(void (*block)(void), const char *name, const char *start) {
    unsigned long first[32];
    int same = 1;
    for (int round = 0; round < 100; round++) {
        if (sigsetjmp(back, 1) == 0) block();
        if (round == 0) {
            for (int r = 0; r < 32; r++) first[r] = seen[r];
        } else {
            for (int r = 5; r < 13; r++)
                if (seen[r] != first[r]) same = 0;
        }
    }
    printf("fault at %s+%lu: t0 = %#lx, t1 = %#lx, t2 = %#lx, a0 = %#lx, a1 = %#lx, a2 = %#lx; every round the same: %s\n",
           name, fault_pc - (uintptr_t)start, seen[5], seen[6], seen[7], seen[10], seen[11], seen[12], same ? "yes" : "no");
}

int main(void) {
    struct sigaction action = {0};
    action.sa_sigaction = on_fault;
    action.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &action, NULL);
    rounds(run_before, "before_write", before_write);
    rounds(run_at, "at_write", at_write);
    rounds(run_past, "past_space", past_space);
    rounds(run_after, "after_helper", after_helper);
    rounds(run_helper_then_fault, "helper_then_fault", helper_then_fault);
    return 0;
}
