/* The example guest from README.md: prints a greeting, its arguments, and a little arithmetic. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    printf("Hello from RISC-V! I am %s.\n", argv[0]);
    for (int i = 1; i < argc; i++) printf("  argument %d: %s\n", i, argv[i]);
    unsigned long long fib[2] = {0, 1};
    for (int i = 0; i < 90; i++) { unsigned long long t = fib[0] + fib[1]; fib[0] = fib[1]; fib[1] = t; }
    printf("fib(90) = %llu, sqrt(2) ~ %.6f\n", fib[0], 1.41421356237 * 1.0);
    return argc > 1 ? atoi(argv[1]) & 0xff : 0;
}
