/* Adversarial: a guest that takes all the memory it can. With argument N it maps and touches N
 * MiB, one MiB at a time, and says where it was refused; under a memory limit the refusal is
 * ENOMEM, and what Rivet holds for the guest (code cache, decoded blocks) counts against the
 * same limit.
 * rivet-fixture: args 16 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int main(int argc, char **argv) {
    long wanted = argc > 1 ? atol(argv[1]) : 16;
    for (long k = 0; k < wanted; k++) {
        char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            printf("refused after %ld MiB: %s\n", k, strerrorname_np(errno));
            return 1;
        }
        memset(p, 1, 1 << 20);
    }
    printf("mapped %ld MiB\n", wanted);
    return 0;
}
