/* A search shaped like zlib's longest_match, called from a loop over a buffer: each call walks a
 * hash chain (a loop whose candidates mostly fail at their first byte) and, for a candidate
 * that passes, compares bytes in an inner loop. Every block of such a loop nest lies on a loop,
 * and a slice of the baseline's code may end at any of them. Tier 2 must make one region of a
 * loop that a region already covers, not one more for each block a slice ended at
 * (`aLoopInARegionStartsNoOther` counts them). Every tier, and qemu, must agree on
 * the sums. */
#include <stdint.h>
#include <stdio.h>

#define SIZE 65536
#define MASK (SIZE - 1)
static unsigned char window[SIZE + 300];
static uint16_t prev[SIZE];
static uint16_t head[4096];

static __attribute__((noinline)) int search(unsigned pos, unsigned cur, int chain) {
    const unsigned char *scan = window + pos;
    int best = 2;
    unsigned char end1 = scan[best - 1], end = scan[best];
    do {
        const unsigned char *match = window + cur;
        if (match[best] != end || match[best - 1] != end1 || match[0] != scan[0]) continue;
        int len = 1;
        while (len < 258 && match[len] == scan[len]) len++;
        if (len > best) {
            best = len;
            end1 = scan[best - 1];
            end = scan[best];
        }
    } while ((cur = prev[cur & MASK]) > pos - 32768 && cur < pos && --chain != 0);
    return best;
}

int main(void) {
    uint32_t x = 12345;
    for (int i = 0; i < SIZE + 300; i++) {
        x = x * 1103515245u + 12345u;
        window[i] = "abcdefgh"[(x >> 16) & 7];
    }
    uint64_t sum = 0;
    for (int round = 0; round < 3; round++) {
        for (unsigned i = 0; i < 4096; i++) head[i] = 0;
        for (unsigned pos = 1; pos < SIZE; pos++) {
            unsigned h = (window[pos] * 31u + window[pos + 1] * 7u + window[pos + 2]) & 4095;
            unsigned cur = head[h];
            prev[pos & MASK] = (uint16_t)cur;
            head[h] = (uint16_t)pos;
            if (cur != 0 && cur < pos) sum = sum * 3 + (uint64_t)search(pos, cur, 16 + (pos & 31));
        }
    }
    printf("sum %016llx\n", (unsigned long long)sum);
    return 0;
}
