/* abort() raises SIGABRT, whose default action kills the process: exit status 134. glibc
 * blocks signals around the raise and restores the mask, so the signal is delivered when it
 * is unblocked. */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    puts("about to abort");
    fflush(stdout);
    abort();
}
