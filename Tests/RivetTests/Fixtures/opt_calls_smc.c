/* A hot loop calls f, which lies 20 KB away in a section of its own: tier 2 takes f into the
 * loop's region (RegionFormation measures a callee's blocks from its entry), and the region's
 * code depends on f's page, not only on the loop's. Between rounds the program rewrites f's
 * immediate (mprotect, a store, __builtin___clear_cache): the region must be dropped and f's new
 * code run. A region that recorded only the loop's pages as its code would run the old f.
 * Every tier, and qemu, must agree. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
__asm__(".section .text.b_filler,\"ax\",@progbits\n.skip 20000\n.previous");
__attribute__((noipa, section(".text.c_far"))) long f(long x) { return x + 1000; }
__attribute__((noipa)) static long run(long n) {
    long s = 0;
    for (long i = 0; i < n; i++) s += f(i) ^ (s >> 3);
    return s;
}
int main(void) {
    uint32_t *p = (uint32_t *)(uintptr_t)f;
    uintptr_t page = (uintptr_t)p & ~4095ul;
    if (mprotect((void *)page, 8192, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) { perror("mprotect"); return 1; }
    printf("f at loop+%ld, word %08x\n", (long)((uintptr_t)f - (uintptr_t)run), p[0]);
    for (int round = 0; round < 4; round++) {
        printf("round %d: %ld\n", round, run(3000000));
        uint32_t imm = (uint32_t)(1000 + 100 * (round + 1));
        p[0] = (p[0] & 0xfffff) | (imm << 20);
        __builtin___clear_cache((char *)p, (char *)(p + 1));
        printf("patched %08x f(0)=%ld\n", p[0], f(0));
    }
    return 0;
}
