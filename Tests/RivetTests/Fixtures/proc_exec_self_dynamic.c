/* proc_exec_self, linked dynamically: the exec'd image maps the same program and the same
 * dynamic linker where the old ones were, so their code stays (the C library, mapped later by
 * the dynamic linker, is dropped and decoded again); the output must not change.
 * qemu-user cannot run the new image (it would need binfmt_misc): the expectation is written
 * by hand.
 * rivet-fixture: processes
 * rivet-fixture: dynamic
 * rivet-fixture: no-qemu */
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc > 1) {
        printf("again: %s\n", argv[1]);
        return 3;
    }
    unsigned long sum = 0;
    for (unsigned long k = 0; k < 200000; k++) sum += k * k % 7;
    printf("first: %lu\n", sum);
    fflush(stdout);
    char *arguments[] = {argv[0], "yes", NULL};
    execv("/proc/self/exe", arguments);
    perror("execv");
    return 1;
}
