/* Adversarial: syscall arguments at the ends of their ranges, where a careless emulator
 * overflows (and Swift traps): pointers just below 2^64, offsets near 2^63, signal stacks that
 * wrap around. Linux answers each with an error (or works); Rivet must too, never crashing.
 * The expected output is what this same program prints compiled natively for x86-64 Linux
 * (qemu-user answers nanosleep's unreadable pointer with EINVAL instead of EFAULT).
 * rivet-fixture: no-qemu */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static void show(const char *what, long result) {
    printf("%-40s %ld %s\n", what, result, result < 0 ? strerrorname_np(errno) : "");
    fflush(stdout);
}

static volatile int caught;
static void handler(int sig) { caught = sig; }

int main(void) {
    const uintptr_t top = UINTPTR_MAX - 7;
    char buffer[64];
    int fd = open("/proc/self/maps", O_RDONLY);
    show("readv, vector at the top", syscall(SYS_readv, fd, top, 4));
    show("writev, vector at the top", syscall(SYS_writev, 1, top, 4));
    struct iovec huge = {buffer, 8};
    show("preadv at 2^63 - 1", syscall(SYS_preadv, fd, &huge, 1, INT64_MAX, 0));
    show("lseek to 2^63 - 1", lseek(fd, INT64_MAX, SEEK_SET) < 0 ? -1 : 0);
    errno = 0;
    show("lseek one further (SEEK_CUR)", lseek(fd, 1, SEEK_CUR));
    show("lseek SEEK_END + 2^63 - 1", lseek(fd, INT64_MAX, SEEK_END) < 0 ? -1 : 0);
    show("clock_gettime at the top", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, top));
    show("nanosleep at the top", syscall(SYS_nanosleep, top, 0));
    show("sigaction at the top", syscall(SYS_rt_sigaction, SIGUSR1, top, 0, 8));
    show("sigaction old at the top", syscall(SYS_rt_sigaction, SIGUSR1, 0, top, 8));
    show("sigprocmask at the top", syscall(SYS_rt_sigprocmask, SIG_BLOCK, top, 0, 8));
    show("getrlimit at the top", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, top));
    show("pipe2 at the top", syscall(SYS_pipe2, top, 0));
    show("uname at the top", syscall(SYS_uname, top));
    show("times at the top", syscall(SYS_times, top));
    show("gettimeofday at the top", syscall(SYS_gettimeofday, top, 0));
    /* An alternate stack that wraps around the address space: the frame cannot be pushed. */
    stack_t wrap = {.ss_sp = (void *)(UINTPTR_MAX - 4095), .ss_size = 1 << 20, .ss_flags = 0};
    show("sigaltstack that wraps", sigaltstack(&wrap, NULL));
    struct sigaction action = {0};
    action.sa_handler = handler;
    action.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR2, &action, NULL);
    printf("raising SIGUSR2 onto it\n");
    fflush(stdout);
    raise(SIGUSR2);
    printf("not reached: handler saw %d\n", caught);
    return 0;
}
