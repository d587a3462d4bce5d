/* Adversarial: loads whose destination is their own base register, and stores of every width
 * from registers, in blocks that compiled code keeps in host registers (each register is used
 * more than once, so tier 1 caches it and loads straight into it). A chain of pointers is
 * followed with `ld a0, 0(a0)`; bytes, halves and words are stored from cached registers and
 * read back; then `ld a0, 0(a0)` faults on an inaccessible page, and the handler prints a0 from
 * the ucontext: the address, not clobbered by the load that did not happen. Run 100 times, so
 * that every tier compiles the blocks. Every tier, and qemu, must agree. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

static sigjmp_buf back;
static unsigned long seen_a0, seen_a1;

static void on_fault(int sig, siginfo_t *info, void *context) {
    (void)sig, (void)info;
    ucontext_t *uc = context;
    seen_a0 = uc->uc_mcontext.__gregs[10];
    seen_a1 = uc->uc_mcontext.__gregs[11];
    siglongjmp(back, 1);
}

static uintptr_t chain[8];

__attribute__((noinline)) static uintptr_t follow(uintptr_t p) {
    register uintptr_t a0 __asm__("a0") = p;
    __asm__ volatile("ld a0, 0(a0)\n ld a0, 0(a0)\n ld a0, 0(a0)\n ld a0, 0(a0)\n ld a0, 0(a0)\n" : "+r"(a0) :: "memory");
    return a0;
}

__attribute__((noinline)) static uint64_t widths(unsigned char *buffer, uint64_t value) {
    register uint64_t a1 __asm__("a1") = value;
    register unsigned char *a2 __asm__("a2") = buffer;
    uint64_t out;
    __asm__ volatile(
        "sb a1, 0(a2)\n sh a1, 2(a2)\n sw a1, 4(a2)\n sd a1, 8(a2)\n addi a1, a1, 1\n"
        "sb a1, 16(a2)\n lbu %0, 16(a2)\n lb a1, 0(a2)\n add %0, %0, a1\n lhu a1, 2(a2)\n add %0, %0, a1\n"
        "lw a1, 4(a2)\n add %0, %0, a1\n ld a1, 8(a2)\n add %0, %0, a1\n"
        : "=&r"(out), "+r"(a1) : "r"(a2) : "memory");
    return out;
}

__attribute__((noinline)) static void fault_into_base(uintptr_t p) {
    register uintptr_t a0 __asm__("a0") = p;
    register uintptr_t a1 __asm__("a1") = 0x1234;
    __asm__ volatile("add a1, a1, a0\n add a1, a1, a1\n ld a0, 0(a0)\n add a1, a1, a0\n" : "+r"(a0), "+r"(a1) :: "memory");
}

int main(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_fault;
    action.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &action, NULL);
    unsigned char *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (int k = 0; k < 8; k++) chain[k] = (uintptr_t)&chain[(k + 3) % 8];
    unsigned char buffer[32];
    uint64_t sum = 0, ends = 0;
    int faults = 0;
    for (int round = 0; round < 100; round++) {
        ends += follow((uintptr_t)&chain[round % 8]) - (uintptr_t)chain;
        sum += widths(buffer, 0x8070605040302010ull + round * 0x0101010101010101ull);
        if (sigsetjmp(back, 1) == 0) {
            fault_into_base((uintptr_t)page + 8 * (round % 4));
        } else {
            faults++;
            if (seen_a0 != (uintptr_t)page + 8 * (round % 4) || seen_a1 != 2 * (0x1234 + seen_a0)) {
                printf("round %d: a0 %#lx a1 %#lx\n", round, seen_a0, seen_a1);
                return 1;
            }
        }
    }
    printf("ends %llu sum %#llx faults %d\n", (unsigned long long)ends, (unsigned long long)sum, faults);
    return 0;
}
