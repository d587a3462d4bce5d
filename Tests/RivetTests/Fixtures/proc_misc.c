/* Process and time syscalls with host-dependent answers, printed as facts that hold on any host:
 * uname (sysname, machine), getpid == gettid, getppid, ids, getrlimit/setrlimit/prlimit64,
 * sysinfo, clock_gettime on every common clock (monotonic never goes back), clock_getres,
 * gettimeofday and time, nanosleep and clock_nanosleep (relative and absolute) really sleep,
 * getrandom fills its buffer, sched_getaffinity, sched_yield, times, getrusage, umask and the
 * prctl thread name. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static void check(const char *what, int ok) { printf("%-44s %s\n", what, ok ? "ok" : "FAILED"); }

static long long ns(const struct timespec *t) { return t->tv_sec * 1000000000LL + t->tv_nsec; }

int main(void) {
    struct utsname u;
    check("uname succeeds", uname(&u) == 0);
    printf("sysname %s, machine %s\n", u.sysname, u.machine);
    check("nodename and release are not empty", u.nodename[0] != 0 && u.release[0] != 0);

    check("getpid == gettid", getpid() == syscall(SYS_gettid));
    check("getpid > 0, getppid > 0", getpid() > 0 && getppid() > 0);
    check("getuid/geteuid, getgid/getegid answer", getuid() != (uid_t)-1 && geteuid() != (uid_t)-1 &&
          getgid() != (gid_t)-1 && getegid() != (gid_t)-1);

    struct rlimit r;
    check("getrlimit(RLIMIT_STACK)", getrlimit(RLIMIT_STACK, &r) == 0 && r.rlim_cur > 0 &&
          (r.rlim_max == RLIM_INFINITY || r.rlim_cur <= r.rlim_max));
    check("getrlimit(RLIMIT_NOFILE)", getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur >= 64 && r.rlim_cur <= r.rlim_max);
    rlim_t hard = r.rlim_max;
    struct rlimit lower = {.rlim_cur = 64, .rlim_max = hard};
    check("setrlimit(RLIMIT_NOFILE, 64)", setrlimit(RLIMIT_NOFILE, &lower) == 0);
    check("getrlimit sees the new soft limit", getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur == 64);
    check("  and the hard limit unchanged", r.rlim_max == hard);
    struct rlimit old;
    check("prlimit64(0, RLIMIT_NOFILE, NULL, &old)", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &old) == 0 &&
          old.rlim_cur == 64);
    if (hard != RLIM_INFINITY) {
        struct rlimit above = {.rlim_cur = hard + 1, .rlim_max = hard};
        check("setrlimit with soft > hard is EINVAL", setrlimit(RLIMIT_NOFILE, &above) == -1);
    } else {
        check("setrlimit with soft > hard is EINVAL", 1);
    }
    check("prlimit64(getpid(), RLIMIT_CORE, NULL, &old)", syscall(SYS_prlimit64, getpid(), RLIMIT_CORE, NULL, &old) == 0);
    check("prlimit64(RLIMIT_AS)", prlimit(0, RLIMIT_AS, NULL, &old) == 0 && old.rlim_cur > 0);
    check("getrlimit(RLIMIT_DATA)", getrlimit(RLIMIT_DATA, &r) == 0);
    check("getrlimit of a bad resource is EINVAL", getrlimit(99, &r) == -1);

    struct sysinfo si;
    check("sysinfo", sysinfo(&si) == 0 && si.mem_unit >= 1 && si.totalram > 0 && si.procs >= 1 &&
          si.freeram <= si.totalram);

    static const struct { clockid_t id; const char *name; } clocks[] = {
        {CLOCK_REALTIME, "CLOCK_REALTIME"}, {CLOCK_MONOTONIC, "CLOCK_MONOTONIC"},
        {CLOCK_PROCESS_CPUTIME_ID, "CLOCK_PROCESS_CPUTIME_ID"},
        {CLOCK_THREAD_CPUTIME_ID, "CLOCK_THREAD_CPUTIME_ID"}, {CLOCK_MONOTONIC_RAW, "CLOCK_MONOTONIC_RAW"},
        {CLOCK_REALTIME_COARSE, "CLOCK_REALTIME_COARSE"}, {CLOCK_MONOTONIC_COARSE, "CLOCK_MONOTONIC_COARSE"},
        {CLOCK_BOOTTIME, "CLOCK_BOOTTIME"},
    };
    for (unsigned k = 0; k < sizeof clocks / sizeof clocks[0]; k++) {
        struct timespec a, b;
        char what[64];
        snprintf(what, sizeof what, "clock_gettime(%s) twice", clocks[k].name);
        int ok = clock_gettime(clocks[k].id, &a) == 0 && clock_gettime(clocks[k].id, &b) == 0;
        if (clocks[k].id != CLOCK_REALTIME && clocks[k].id != CLOCK_REALTIME_COARSE) ok = ok && ns(&b) >= ns(&a);
        check(what, ok && a.tv_nsec >= 0 && a.tv_nsec < 1000000000);
    }
    struct timespec res;
    check("clock_getres(CLOCK_MONOTONIC) <= 1ms", clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 &&
          res.tv_nsec > 0 && res.tv_nsec <= 1000000);
    check("clock_gettime of a bad clock fails", clock_gettime((clockid_t)12345, &res) == -1);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    check("realtime is after 2020", now.tv_sec > 1577836800);
    struct timeval tv;
    check("gettimeofday agrees with clock_gettime", gettimeofday(&tv, NULL) == 0 && tv.tv_sec >= now.tv_sec &&
          tv.tv_sec - now.tv_sec < 60 && tv.tv_usec >= 0 && tv.tv_usec < 1000000);
    time_t t = time(NULL);
    /* time() reads the coarse clock, which may lag CLOCK_REALTIME by a tick across a second. */
    check("time() agrees", t >= now.tv_sec - 1 && t - now.tv_sec < 60);

    struct timespec before, after, nap = {0, 2000000};
    clock_gettime(CLOCK_MONOTONIC, &before);
    check("nanosleep(2ms)", nanosleep(&nap, NULL) == 0);
    clock_gettime(CLOCK_MONOTONIC, &after);
    check("  slept at least 2ms", ns(&after) - ns(&before) >= 2000000);
    check("clock_nanosleep(MONOTONIC, relative 1ms)", clock_nanosleep(CLOCK_MONOTONIC, 0, &(struct timespec){0, 1000000}, NULL) == 0);
    clock_gettime(CLOCK_MONOTONIC, &before);
    struct timespec deadline = before;
    deadline.tv_nsec += 3000000;
    if (deadline.tv_nsec >= 1000000000) { deadline.tv_sec++; deadline.tv_nsec -= 1000000000; }
    check("clock_nanosleep(MONOTONIC, TIMER_ABSTIME +3ms)", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL) == 0);
    clock_gettime(CLOCK_MONOTONIC, &after);
    check("  woke after the deadline", ns(&after) >= ns(&deadline));
    check("nanosleep with a bad tv_nsec is EINVAL", nanosleep(&(struct timespec){0, 1000000000}, NULL) == -1);

    unsigned char bytes[64];
    memset(bytes, 0, sizeof bytes);
    check("getrandom(64) returns 64", getrandom(bytes, sizeof bytes, 0) == 64);
    int nonzero = 0;
    for (unsigned k = 0; k < sizeof bytes; k++) nonzero += bytes[k] != 0;
    check("  and fills the buffer", nonzero > 32);
    check("getrandom(GRND_NONBLOCK)", getrandom(bytes, 16, GRND_NONBLOCK) == 16);
    check("getentropy(32)", getentropy(bytes, 32) == 0);

    cpu_set_t set;
    CPU_ZERO(&set);
    check("sched_getaffinity", sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) >= 1);
    check("sched_yield", sched_yield() == 0);

    struct tms tm;
    clock_t ticks = times(&tm);
    check("times", ticks != (clock_t)-1 && tm.tms_utime >= 0 && tm.tms_stime >= 0);
    struct rusage ru;
    check("getrusage(RUSAGE_SELF)", getrusage(RUSAGE_SELF, &ru) == 0 && ru.ru_utime.tv_usec < 1000000);

    mode_t first = umask(027);
    mode_t second = umask(first);
    printf("umask round trip: %03o\n", second);

    char name[16] = {0};
    check("prctl(PR_SET_NAME)", prctl(PR_SET_NAME, "rivet-guest") == 0);
    check("prctl(PR_GET_NAME)", prctl(PR_GET_NAME, name) == 0);
    printf("thread name: %s\n", name);
    return 0;
}
