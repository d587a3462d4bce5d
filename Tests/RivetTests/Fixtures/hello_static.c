/* A static glibc program: stdio, malloc, argv. rivet-fixture: args one two */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) printf("arg %d = %s\n", i, argv[i]);
    char *p = malloc(100000);
    memset(p, 'x', 99999);
    p[99999] = 0;
    printf("strlen = %zu\n", strlen(p));
    free(p);
    return 5;
}
