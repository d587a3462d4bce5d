/* Code rewritten after a fork: the parent compiles a function (hot), then twenty times forks a
 * child that rewrites its first instruction (in a page it made writable and executable), runs
 * fence.i and calls it; the parent, after each child, must still run its own bytes, and each
 * child its new ones: the code cache, shared copy-on-write by default or copied with
 * --w-xor-x, and the translations of each process stay its own.
 * rivet-fixture: processes */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>
static uint32_t code[64] __attribute__((aligned(4096)));
typedef long (*fn)(long);
int main(void) {
    /* addi a0, a0, 1 ; ret */
    code[0] = 0x00150513; code[1] = 0x00008067;
    mprotect(code, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
    __asm__ volatile("fence.i" ::: "memory");
    fn f = (fn)code; long s = 0;
    for (int i = 0; i < 200000; i++) s += f(i);          /* hot: compiled */
    printf("parent before %ld\n", s);
    for (int round = 0; round < 20; round++) {
        pid_t p = fork();
        if (p == 0) {
            code[0] = 0x00250513;                          /* addi a0, a0, 2 */
            __asm__ volatile("fence.i" ::: "memory");
            long t = 0; for (int i = 0; i < 100000; i++) t += f(i);
            _exit(t == 4999950000L + 200000 ? 7 : 1);
        }
        int st; waitpid(p, &st, 0);
        long u = 0; for (int i = 0; i < 100000; i++) u += f(i);
        if (WEXITSTATUS(st) != 7 || u != 4999950000L + 100000) { printf("round %d: child %d parent %ld\n", round, WEXITSTATUS(st), u); return 1; }
    }
    printf("ok\n");
    return 0;
}
