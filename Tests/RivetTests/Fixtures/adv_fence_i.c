/* Adversarial: fence.i. Code written through a second, writable mapping of the same memory
 * (as a JIT inside the guest does) runs after fence.i, changed each time; a hot loop that
 * executes fence.i now and then keeps running (and, in the JIT, keeps its compiled code: Rivet
 * sees every write to private code, so fence.i has nothing to drop there). With an argument,
 * the loop runs that many million iterations (for measuring). qemu-user runs the stale code
 * (it drops translations by the written page's guest address, not the memory's), hence no-qemu.
 * rivet-fixture: args 2
 * rivet-fixture: no-qemu */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static long hot_loop(long millions) {
    long sum = 0;
    for (long m = 0; m < millions; m++) {
        for (long k = 0; k < 250000; k++) sum += k ^ m;
        __asm__ volatile("fence.i" ::: "memory");
    }
    return sum;
}

int main(int argc, char **argv) {
    int fd = memfd_create("guest-jit", 0);
    if (fd < 0 || ftruncate(fd, 4096) != 0) return 1;
    uint32_t *writable = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    long (*run)(void) = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    if (writable == MAP_FAILED || run == MAP_FAILED) return 2;
    long total = 0;
    for (int k = 0; k < 200; k++) {
        writable[0] = 0x00000513 | (uint32_t)(k & 0x7ff) << 20; /* li a0, k */
        writable[1] = 0x00008067;                              /* ret */
        __asm__ volatile("fence.i" ::: "memory");
        long value = run();
        if (value != k) {
            printf("stale code: iteration %d ran %ld\n", k, value);
            return 3;
        }
        total += value;
    }
    printf("code rewritten through a second mapping: total %ld\n", total);
    long millions = argc > 1 ? atol(argv[1]) : 2;
    printf("hot loop with fence.i: %ld\n", hot_loop(millions));
    return 0;
}
