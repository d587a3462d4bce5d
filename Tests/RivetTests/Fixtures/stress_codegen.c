/* Many short-lived hot blocks: the guest writes 384 small functions, calls each until it is hot,
 * rewrites them all, and repeats, so that tier-up, the compile queue, eviction (under a small
 * code cache) and invalidation of rewritten code interleave. One function is also rewritten on
 * every call of a round (a deopt loop the engine must back off from). */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>

typedef long (*function)(long);

static uint32_t addi(int rd, int rs1, int imm) { return (uint32_t)(imm & 0xfff) << 20 | rs1 << 15 | rd << 7 | 0x13; }
static uint32_t xori(int rd, int rs1, int imm) { return (uint32_t)(imm & 0xfff) << 20 | rs1 << 15 | 4 << 12 | rd << 7 | 0x13; }
static const uint32_t ret = 0x00008067;
enum { a0 = 10, FUNCTIONS = 384, SLOT = 4 };

static void write_function(uint32_t *p, int k, int round) {
    p[0] = addi(a0, a0, (k * 7 + round) & 0x3ff);
    p[1] = xori(a0, a0, round * 3 + 1);
    p[2] = ret;
}

int main(void) {
    uint32_t *code = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED) return 1;
    long total = 0;
    for (int round = 0; round < 12; round++) {
        for (int k = 0; k < FUNCTIONS; k++) write_function(code + k * SLOT, k, round);
        __builtin___clear_cache((char *)code, (char *)(code + FUNCTIONS * SLOT));
        for (int rep = 0; rep < 70; rep++) {
            for (int k = 0; k < FUNCTIONS; k++) total = ((function)(code + k * SLOT))(total);
            /* The last function changes at every repetition. */
            uint32_t *last = code + (FUNCTIONS - 1) * SLOT;
            write_function(last, rep, round);
            __builtin___clear_cache((char *)last, (char *)(last + SLOT));
        }
        printf("round %2d: %ld\n", round, total);
    }
    return 0;
}
