/* Signal delivery to guest handlers: raise, SA_SIGINFO, faults, sigaltstack, masks, sigreturn. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile int hits;
static sigjmp_buf env;
static void *fault_addr;
static char altstack[65536];

static void on_usr1(int sig) { hits += sig; }

static void on_segv(int sig, siginfo_t *info, void *uc) {
    (void)uc;
    fault_addr = info->si_addr;
    int on_alt = (char *)&sig >= altstack && (char *)&sig < altstack + sizeof altstack;
    printf("SIGSEGV handler: signo=%d code=%d on_altstack=%d\n", info->si_signo, info->si_code, on_alt);
    siglongjmp(env, 1);
}

static void on_usr2(int sig, siginfo_t *info, void *uc) {
    ucontext_t *u = uc;
    printf("SIGUSR2 handler: signo=%d code=%d usr1_blocked_inside=%d\n", sig, info->si_code,
           sigismember(&u->uc_sigmask, SIGUSR1) == 0 ? 0 : 1);
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    raise(SIGUSR1);
    printf("after raise: hits=%d\n", hits);

    /* A blocked signal stays pending and arrives when unblocked. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    raise(SIGUSR1);
    printf("while blocked: hits=%d\n", hits);
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("after unblock: hits=%d\n", hits);

    /* SA_SIGINFO with a mask. */
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr2;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR1);
    sigaction(SIGUSR2, &sa, NULL);
    kill(getpid(), SIGUSR2);

    /* A fault handled on the alternate stack, twice. */
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGSEGV, &sa, NULL);
    char *page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (int round = 0; round < 2; round++) {
        if (sigsetjmp(env, 1) == 0) {
            page[round * 8] = 1;
            printf("no fault?\n");
        } else {
            printf("recovered: offset=%ld\n", (long)((char *)fault_addr - page));
        }
    }

    /* SA_RESETHAND: the second SIGUSR1 takes the default action and kills us. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("reset: hits=%d\n", hits);
    fflush(stdout);
    raise(SIGUSR1);
    printf("not reached\n");
    return 0;
}
