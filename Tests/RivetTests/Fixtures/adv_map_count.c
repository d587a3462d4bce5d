/* Adversarial: more mappings than the host can hold. Alternating mprotect calls split one large
 * mapping into a region per page; Linux refuses with ENOMEM at its map count, and so must Rivet,
 * before the host runs out (the host's own limit is shared with Rivet's threads, JIT and
 * allocator). After the refusal everything still works. Argument: how many calls to try.
 * rivet-fixture: args 2000 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define PAGE 4096L

int main(int argc, char **argv) {
    long calls = argc > 1 ? atol(argv[1]) : 2000;
    long pages = 2 * calls + 2;
    char *area = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (area == MAP_FAILED) return 1;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    long done = 0;
    int error = 0;
    for (; done < calls; done++) {
        if (mprotect(area + 2 * done * PAGE, PAGE, PROT_READ) != 0) {
            error = errno;
            break;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
    if (error)
        printf("refused with %s after more than %d calls: %s\n", strerrorname_np(error), 20000, done > 20000 ? "yes" : "no");
    else
        printf("%ld alternating mprotect calls: ok\n", done);
    fprintf(stderr, "%ld calls in %.3f s\n", done, seconds);
    /* The pages still hold what was written, with the rights given. */
    area[PAGE] = 'x';
    printf("writable page between read-only ones: %c\n", area[PAGE]);
    /* After unmapping, mapping works again. */
    if (munmap(area, pages * PAGE) != 0) return 2;
    char *fresh = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (fresh == MAP_FAILED) return 3;
    strcpy(fresh, "mapping again");
    char *heap = malloc(1 << 16);
    strcpy(heap, fresh);
    printf("after unmapping: %s\n", heap);
    return 0;
}
