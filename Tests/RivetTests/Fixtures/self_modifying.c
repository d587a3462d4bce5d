/* Code that changes: generated into an mmap'd RWX buffer, flushed with
 * __builtin___clear_cache (the riscv_flush_icache syscall), run, rewritten and run again; the
 * new code must run each time, also after the old code became hot. Then the W^X pattern
 * (write RW, mprotect RX, run, back to RW, rewrite), compressed code rewritten in place, and
 * code that patches the instruction after its own fence.i. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

typedef long (*fn)(long, long);

static uint32_t addi(int rd, int rs1, int imm) { return (uint32_t)imm << 20 | rs1 << 15 | rd << 7 | 0x13; }
static uint32_t add(int rd, int rs1, int rs2) { return rs2 << 20 | rs1 << 15 | rd << 7 | 0x33; }
static const uint32_t RET = 0x00008067; /* jalr x0, 0(ra) */
enum { A0 = 10, A1 = 11 };

/* a0 = a0 + a1 + k; ret */
static void emit(uint32_t *code, int k) {
    code[0] = add(A0, A0, A1);
    code[1] = addi(A0, A0, k);
    code[2] = RET;
}

static void flush(void *p, size_t n) { __builtin___clear_cache((char *)p, (char *)p + n); }

int main(void) {
    uint32_t *rwx = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (rwx == MAP_FAILED) { puts("mmap rwx failed"); return 1; }
    fn f = (fn)(void *)rwx;

    emit(rwx, 1);
    flush(rwx, 12);
    printf("rwx first: %ld\n", f(10, 20));
    emit(rwx, 100);
    flush(rwx, 12);
    printf("rwx rewritten: %ld\n", f(10, 20));

    /* Make the code hot, then change it: every version must be the one that runs. */
    long sum = 0;
    for (int round = 0; round < 20; round++) {
        emit(rwx, round);
        flush(rwx, 12);
        for (int k = 0; k < 50; k++) sum += f(k, 1);
    }
    printf("hot rewrites sum: %ld\n", sum);

    /* Only the immediate changes, in the middle of the block. */
    rwx[1] = addi(A0, A0, -7);
    flush(rwx + 1, 4);
    printf("patched immediate: %ld\n", f(3, 4));

    /* Compressed code: c.li a0, imm; c.jr ra, rewritten to c.li a0, other. */
    uint16_t *c = (uint16_t *)(rwx + 64);
    c[0] = 0x4501 | (5 << 2); /* c.li a0, 5 */
    c[1] = 0x8082;            /* c.jr ra */
    flush(c, 4);
    fn g = (fn)(void *)c;
    printf("compressed: %ld\n", g(0, 0));
    c[0] = 0x4501 | (17 << 2); /* c.li a0, 17 */
    flush(c, 2);
    printf("compressed rewritten: %ld\n", g(0, 0));

    /* Code that patches the instruction after its own fence.i:
     *   sw a1, 8(a0); fence.i; addi a0, zero, 1 (replaced by a1's word); ret */
    uint32_t *p = rwx + 128;
    p[0] = (8 >> 5) << 25 | A1 << 20 | A0 << 15 | 2 << 12 | (8 & 31) << 7 | 0x23;
    p[1] = 0x0000100f; /* fence.i */
    p[2] = addi(A0, 0, 1);
    p[3] = RET;
    flush(p, 16);
    fn h = (fn)(void *)p;
    printf("self-patching, same word: %ld\n", h((long)p, addi(A0, 0, 1)));
    printf("self-patching, new word: %ld\n", h((long)p, addi(A0, 0, 77)));
    printf("self-patching, again: %ld\n", h((long)p, addi(A0, 0, -5)));
    munmap(rwx, 4096);

    /* W^X: write while RW, run while RX, and back. */
    uint32_t *wx = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (wx == MAP_FAILED) { puts("mmap rw failed"); return 1; }
    uint32_t *second = wx + 1024; /* the second page */
    emit(second, 1000);
    flush(second, 12);
    mprotect(wx, 8192, PROT_READ | PROT_EXEC);
    f = (fn)(void *)second;
    printf("w^x first: %ld\n", f(1, 2));
    mprotect(wx, 8192, PROT_READ | PROT_WRITE);
    emit(second, 2000);
    flush(second, 12);
    mprotect(wx, 8192, PROT_READ | PROT_EXEC);
    printf("w^x rewritten: %ld\n", f(1, 2));

    /* Unmap and map new code at the same address. */
    munmap(wx, 8192);
    uint32_t *again = mmap(wx, 8192, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (again != wx) { puts("remap failed"); return 1; }
    emit(second, 1500);
    flush(second, 12);
    printf("remapped: %ld\n", f(1, 2));
    return 0;
}
