/* A tight integer loop (7 instructions an iteration, 1.4 billion in all): the figure for the
 * interpreter's speed. Compare: rivet run --stats --tier interp Examples/loop
 *                                rivet run --stats Examples/loop */
#include <stdio.h>

int main(void) {
    unsigned long n = 200000000UL, a = 1, b = 0;
    for (unsigned long i = 0; i < n; i++) {
        a = a * 3 + i;
        b ^= a >> 3;
    }
    printf("%lu %lu\n", a, b);
    return 0;
}
