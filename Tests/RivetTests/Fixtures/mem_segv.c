/* A write to a page made read-only with mprotect kills the process with SIGSEGV: exit status
 * 139 (128 + 11), after everything printed before it has reached stdout. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

int main(void) {
    volatile char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { puts("mmap failed"); return 1; }
    p[0] = 'a';
    p[4096] = 'b';
    printf("mprotect read-only: %d\n", mprotect((void *)p, 4096, PROT_READ));
    printf("still readable: %c\n", p[0]);
    p[4096] = 'c';
    printf("the other page is still writable: %c\n", p[4096]);
    fflush(stdout);
    p[1] = 'x';
    puts("not reached");
    return 0;
}
