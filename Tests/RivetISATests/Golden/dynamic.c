/* A small dynamically linked program whose `objdump -d` listing exercises the PLT and its
   synthetic `name@plt` symbols, versioned dynamic symbols (`printf@GLIBC_2.27`), and GOT slots
   named after their dynamic relocations. regenerate.sh builds it with riscv64-linux-gnu-gcc
   (position-independent, dynamically linked against the cross sysroot's glibc). It is never
   run. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int (*volatile hook)(const char *) = puts;

int main(int argc, char **argv) {
    char *copy = malloc(strlen(argv[0]) + 1);
    strcpy(copy, argv[0]);
    printf("%s %d\n", copy, argc);
    fprintf(stderr, "errno %d\n", errno);
    hook(copy);
    free(copy);
    return 0;
}
