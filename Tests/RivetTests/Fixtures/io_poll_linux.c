/* What io_poll.c cannot ask of qemu-riscv64 7.2, which lacks epoll_pwait2 and does not check
 * signalfd4's mask size: the expectations follow Linux (checked on x86-64 Linux 6.x with the
 * same calls).
 * rivet-fixture: no-qemu */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void show(const char *what, long result) {
    if (result < 0)
        printf("%-44s -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%-44s %ld\n", what, result);
}

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(void) {
    int ep = epoll_create1(0);
    int p[2];
    pipe(p);
    struct epoll_event ev = {EPOLLIN, {.u64 = 41}}, out[2];
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    struct timespec ts = {0, 20000000};
    long start = now_ms();
    show("epoll_pwait2, 20 ms timeout", syscall(SYS_epoll_pwait2, ep, out, 2, &ts, NULL, 8));
    printf("waited at least 15 ms: %s\n", now_ms() - start >= 15 ? "yes" : "no");
    write(p[1], "x", 1);
    show("epoll_pwait2, a byte, no timeout", syscall(SYS_epoll_pwait2, ep, out, 2, NULL, NULL, 8));
    printf("data %llu\n", (unsigned long long)out[0].data.u64);
    ts.tv_nsec = -1;
    show("epoll_pwait2, bad timespec", syscall(SYS_epoll_pwait2, ep, out, 2, &ts, NULL, 8));
    sigset_t set;
    sigemptyset(&set);
    show("epoll_pwait2, sigsetsize 4", syscall(SYS_epoll_pwait2, ep, out, 2, NULL, &set, 4));
    sigaddset(&set, SIGUSR2);
    show("signalfd4, sizemask 4", syscall(SYS_signalfd4, -1, &set, 4, 0));
    return 0;
}
