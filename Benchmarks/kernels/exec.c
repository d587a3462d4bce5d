/* exec: what a shell script or a build pays per command: fork, execve of a program (this one
 * again, through /proc/self/exe), its C library's start-up, its exit, and waitpid, N times. The
 * child exits with a status computed from its argument; the parent hashes the statuses.
 *
 * Not run under qemu-user (Benchmarks/run: `qemu=False`): it cannot execute a riscv64 program
 * without binfmt_misc. Nor counted in the geometric means, which compare the same workloads
 * across runs of the suite. */
#include "bench.h"

#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc > 2) return (int)(strtol(argv[2], NULL, 10) % 251);
    long commands = bench_size(argc, argv, 200);
    uint64_t hash = 0xcbf29ce484222325ULL;
    for (long k = 0; k < commands; k++) {
        char size[32], argument[32];
        snprintf(size, sizeof size, "%ld", commands);
        snprintf(argument, sizeof argument, "%ld", k * 7919);
        fflush(stdout);
        pid_t child = fork();
        if (child < 0) {
            perror("fork");
            return 1;
        }
        if (child == 0) {
            execl("/proc/self/exe", argv[0], size, argument, (char *)NULL);
            perror("execl");
            _exit(127);
        }
        int status = 0;
        if (waitpid(child, &status, 0) != child || !WIFEXITED(status)) {
            fprintf(stderr, "exec: command %ld did not exit\n", k);
            return 1;
        }
        hash = bench_mix(hash, (uint64_t)WEXITSTATUS(status));
    }
    bench_done("exec", commands, hash);
    return 0;
}
