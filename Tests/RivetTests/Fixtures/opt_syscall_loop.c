/* A hot loop that makes a syscall every 12,000 instructions or so, far more often than tier 2's
 * slices of 4 million (JIT code comes back to the run loop at the end of a slice, where a hot
 * loop is sent to tier 2). The slice must run on across the syscalls' exits: when each exit
 * started a new slice, such a loop never met a slice's end and stayed in tier 1 (bzip2 reading
 * its input in 5,000-byte chunks did). Every tier, and qemu, must agree. */
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
    unsigned long h = 1469598103934665603UL;
    for (int round = 0; round < 4000; round++) {
        for (int i = 0; i < 2000; i++) {
            h ^= (unsigned long)i;
            h *= 1099511628211UL;
            h ^= h >> 29;
        }
        syscall(SYS_getpid);
    }
    printf("%lx\n", h);
    return 0;
}
