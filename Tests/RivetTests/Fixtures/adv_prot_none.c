/* A load from a PROT_NONE page: SIGSEGV with SEGV_ACCERR (the page is mapped), as Linux, in every tier. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
static void h(int s, siginfo_t *i, void *c) { printf("sig %d code %d\n", s, i->si_code); fflush(stdout); _exit(0); }
int main(void) {
    struct sigaction a = {0}; a.sa_sigaction = h; a.sa_flags = SA_SIGINFO; sigaction(SIGSEGV, &a, 0);
    char *p = mmap(0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return *(volatile char *)p;
}
