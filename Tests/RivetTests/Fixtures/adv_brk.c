/* Adversarial: brk with values that wrap or lie beyond the address space. Linux answers with
 * the current break and changes nothing; the program (below the break) must still be there. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static char data[64] = "still here";

int main(void) {
    /* Let stdio take its buffer from the heap first: the break below is then ours alone. */
    printf("brk\n");
    fflush(stdout);
    long current = syscall(SYS_brk, 0);
    long requests[] = {-1, -4096, 1L << 62, 0x7ffffffff000L, 1, current - (1 << 30)};
    const char *names[] = {"-1", "-4096", "1 << 62", "0x7ffffffff000", "1", "1G below the break"};
    for (unsigned k = 0; k < sizeof requests / sizeof *requests; k++) {
        long result = syscall(SYS_brk, requests[k]);
        printf("brk(%s) returns the current break: %s\n", names[k], result == current ? "yes" : "no");
    }
    long grown = syscall(SYS_brk, current + 8192);
    printf("growing by 8K: %s\n", grown == current + 8192 ? "yes" : "no");
    memset((char *)current, 0x5a, 8192);
    printf("shrinking back: %s\n", syscall(SYS_brk, current) == current ? "yes" : "no");
    char *p = malloc(100000);
    strcpy(p, data);
    printf("program and heap: %s\n", p);
    return 0;
}
