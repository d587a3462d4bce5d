/* Scheduling, identity and privileged calls as an unprivileged Linux process sees them:
 * SCHED_OTHER with priority 0, real-time priorities 1..99 but no right to use them, getcpu,
 * membarrier's commands, PER_LINUX, capget, and EPERM for mount, reboot, ptrace,
 * setuid to another user and setgroups. Expectations from the same program run on x86-64
 * Linux as an unprivileged user (qemu-user would pass the calls to a host it runs as root).
 * rivet-fixture: no-qemu */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *result(long value) {
    static char text[64];
    if (value < 0) snprintf(text, sizeof text, "-1 %s", strerrorname_np(errno));
    else snprintf(text, sizeof text, "%ld", value);
    return text;
}

int main(void) {
    struct sched_param param = {.sched_priority = 7};
    printf("sched_getscheduler %s\n", result(sched_getscheduler(0)));
    printf("sched_getparam %s", result(sched_getparam(0, &param)));
    printf(", priority %d\n", param.sched_priority);
    printf("priorities: FIFO %d..%d, OTHER %d..%d\n", sched_get_priority_min(SCHED_FIFO), sched_get_priority_max(SCHED_FIFO),
           sched_get_priority_min(SCHED_OTHER), sched_get_priority_max(SCHED_OTHER));
    param.sched_priority = 10;
    printf("sched_setscheduler FIFO %s\n", result(sched_setscheduler(0, SCHED_FIFO, &param)));
    param.sched_priority = 0;
    printf("sched_setscheduler BATCH %s\n", result(sched_setscheduler(0, SCHED_BATCH, &param)));
    unsigned cpu = 99, node = 99;
    long got = syscall(SYS_getcpu, &cpu, &node, NULL);
    printf("getcpu %s, a cpu %s\n", result(got), cpu < 4096 ? "given" : "missing");
    long commands = syscall(SYS_membarrier, 0, 0, 0);
    printf("membarrier query: global %d, private expedited %d\n", commands > 0 && (commands & 1) != 0,
           commands > 0 && (commands & 8) != 0);
    printf("membarrier register private expedited %s\n", result(syscall(SYS_membarrier, 16, 0, 0)));
    printf("personality %s\n", result(personality(0xffffffff)));
    struct { unsigned version; int pid; } header = {0x20080522, 0};
    struct { unsigned effective, permitted, inheritable; } data[2];
    memset(data, 0xff, sizeof data);
    printf("capget %s\n", result(syscall(SYS_capget, &header, data)));
    printf("mount %s\n", result(mount("none", "/tmp", "tmpfs", 0, NULL)));
    printf("reboot %s\n", result(syscall(SYS_reboot, 0xfee1dead, 0x28121969, 0x1234567, NULL)));
    printf("ptrace %s\n", result(syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, 1, 0, 0)));
    printf("setuid(12345) %s\n", result(setuid(12345)));
    printf("setgroups %s\n", result(syscall(SYS_setgroups, 0, NULL)));
    return 0;
}
