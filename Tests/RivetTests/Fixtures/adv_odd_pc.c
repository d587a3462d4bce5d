/* Adversarial: odd pcs from places a guest controls. A handler address with bit 0 set, and a
 * sigcontext pc with bit 0 set at rt_sigreturn, resume at the even address below (RISC-V's sepc
 * has no bit 0 with compressed instructions), as on Linux, in every tier.
 * rivet-fixture: no-qemu */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <ucontext.h>
#include <unistd.h>

static volatile int ran;

static void handler(int sig) { ran = sig; }

__attribute__((noreturn, noinline)) static void resumed(void) {
    printf("resumed at the even address after rt_sigreturn\n");
    fflush(stdout);
    _exit(0);
}

static void redirect(int sig, siginfo_t *info, void *context) {
    (void)sig, (void)info;
    ucontext_t *uc = context;
    uc->uc_mcontext.__gregs[REG_PC] = (uintptr_t)resumed | 1;
}

int main(void) {
    struct sigaction action = {0};
    action.sa_handler = (void (*)(int))((uintptr_t)handler | 1);
    sigaction(SIGUSR1, &action, NULL);
    raise(SIGUSR1);
    printf("odd handler address ran: %d\n", ran);
    fflush(stdout);
    struct sigaction again = {0};
    again.sa_sigaction = redirect;
    again.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR2, &again, NULL);
    raise(SIGUSR2);
    printf("not reached\n");
    return 1;
}
