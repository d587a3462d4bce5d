/* A bytecode interpreter's dispatch loop: a `switch` over ten opcodes compiled to a jump table
 * (an indirect jump through a register, not a return). Tier 2 takes the cases the jump went to
 * (profiled) into the loop's region, compares the jump's target with each, and leaves by the
 * jump cache for any other: the results must be the interpreter's whichever way it goes. The
 * program also jumps to a case it never took before the region was made (op 9, last). */
#include <stdint.h>
#include <stdio.h>

static uint8_t code[64];

static __attribute__((noinline)) uint64_t run(int rounds, int last) {
    uint64_t acc = 1, x = 7;
    for (int r = 0; r < rounds; r++) {
        for (int pc = 0; pc < 64; pc++) {
            switch (code[pc]) {
            case 0: acc += x; break;
            case 1: acc ^= acc << 7; break;
            case 2: acc ^= acc >> 9; break;
            case 3: x = x * 3 + 1; break;
            case 4: acc -= x >> 2; break;
            case 5: x ^= acc; break;
            case 6: acc = acc * 5 + r; break;
            case 7: if (acc & 1) x++; break;
            case 8: acc += (uint64_t)pc << 3; break;
            case 9: acc = ~acc + (uint64_t)last; break;
            default: break;
            }
        }
    }
    return acc ^ x;
}

int main(void) {
    for (int k = 0; k < 64; k++) code[k] = (uint8_t)((k * 7 + 3) % 9);  /* opcodes 0-8 */
    uint64_t a = run(40000, 0);
    code[17] = 9;                                                      /* a new target */
    uint64_t b = run(20000, 5);
    code[33] = 200;                                                    /* the default */
    uint64_t c = run(20000, 9);
    printf("%llx %llx %llx\n", (unsigned long long)a, (unsigned long long)b, (unsigned long long)c);
    return 0;
}
