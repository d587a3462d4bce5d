/* The exit status is the low 8 bits of exit()'s argument: exit(300) reports 44. atexit
 * handlers run, and stdio buffers are flushed, on the way out. */
#include <stdio.h>
#include <stdlib.h>

static void first(void) { puts("atexit: registered first, runs last"); }
static void second(void) { puts("atexit: registered second, runs first"); }

int main(void) {
    atexit(first);
    atexit(second);
    printf("buffered, flushed by exit\n");
    exit(300);
}
