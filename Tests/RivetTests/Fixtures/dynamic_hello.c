/* A dynamically linked program (rivet-fixture: dynamic): ld-linux-riscv64-lp64d.so.1 from the
 * sysroot loads libc.so.6 and libm.so.6, resolves symbols lazily and through IRELATIVE ifuncs
 * (memcpy, strlen), runs constructors and destructors, and reads the environment and argv.
 * rivet-fixture: args alpha beta */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int constructed;
__attribute__((constructor)) static void init(void) { constructed = 42; }
__attribute__((destructor)) static void fini(void) { puts("destructor ran"); }

int main(int argc, char **argv) {
    printf("hello from a dynamic executable, constructor %d\n", constructed);
    for (int i = 1; i < argc; i++) printf("argv[%d] = %s\n", i, argv[i]);
    const char *fixture = getenv("RIVET_FIXTURE");
    printf("RIVET_FIXTURE = %s\n", fixture ? fixture : "(unset)");
    char *buffer = malloc(1 << 20);
    memset(buffer, 'r', (1 << 20) - 1);
    buffer[(1 << 20) - 1] = 0;
    char copy[32];
    memcpy(copy, buffer + 1000, 31);
    copy[31] = 0;
    printf("strlen = %zu, copy = %s\n", strlen(buffer), copy);
    free(buffer);
    volatile double x = 2.0;
    printf("libm: sqrt(2) = %a, exp(1) = %a\n", sqrt(x), exp(x / 2));
    char text[64];
    snprintf(text, sizeof text, "%d-%s-%.3f", 7, "x", 1.5);
    printf("snprintf: %s\n", text);
    return 3;
}
