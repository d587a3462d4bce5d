/* execve in the process itself, not in a forked child: a loop runs long enough to be compiled,
 * then the program runs itself again through /proc/self/exe with an argument, and that run
 * prints it and exits. The engine forgets the first run's code at the exec (no translation of
 * the old image is counted as a deoptimization: RunControlTests checks the statistics).
 * qemu-user cannot run the new image (it would need binfmt_misc): the expectation is written
 * by hand.
 * rivet-fixture: processes
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
