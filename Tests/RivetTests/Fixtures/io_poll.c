/* Waiting for I/O: pipes, eventfd, timerfd and a signalfd driven by ppoll, pselect6 and epoll
 * (level and edge triggered, EPOLLONESHOT, nested epoll), timeouts and the time
 * left they write back, a file Rivet makes up (/proc/self/maps: always ready), and signal
 * masks passed to ppoll, pselect6 and epoll_pwait: a pending signal the mask lets through ends
 * the wait with EINTR even with SA_RESTART (these calls are never restarted), runs its handler,
 * and the mask from before the call is back afterwards; with a descriptor ready the call
 * returns it and the signal stays pending.
 *
 * With the argument "wait" it blocks for the signal tests of PollTests: it handles
 * SIGUSR1, blocks SIGUSR2, prints "ready", and reports how each wait ended (a timed poll that
 * signals it ignores keep waking must still end on time; an unbounded poll and epoll_wait end
 * with EINTR after SIGUSR1's handler; a signalfd read returns SIGUSR2). What qemu 7.2 lacks (epoll_pwait2, signalfd4's size check) is in io_poll_linux.c.
 * The tests run it in its own rivet process: in the test process, a child another test spawns
 * (posix_spawn) holds a pipe's writer for an instant before its exec closes it, and a poll in
 * that instant sees POLLIN without POLLHUP (seen once in CI, `opt/64K cache/lru`).
 * rivet-fixture: processes */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
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

static volatile int handled;
static void on_signal(int sig) { handled += sig == SIGUSR1; }

static int blocked(int sig) {
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    return sigismember(&now, sig);
}

static int pending(int sig) {
    sigset_t set;
    sigpending(&set);
    return sigismember(&set, sig);
}

static void handle(int flags) {
    struct sigaction action = {0};
    action.sa_handler = on_signal;
    action.sa_flags = flags;
    sigaction(SIGUSR1, &action, NULL);
}

static void block(int sig) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_BLOCK, &set, NULL);
}

static void polls(void) {
    printf("-- ppoll\n");
    int p[2];
    pipe(p);
    struct pollfd fds[4] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}, {-1, POLLIN, 0}, {100, POLLIN, 0}};
    show("poll, empty pipe + closed fd", poll(fds, 4, 0));
    printf("revents %#x %#x %#x %#x\n", fds[0].revents, fds[1].revents, fds[2].revents, fds[3].revents);
    write(p[1], "x", 1);
    show("poll, a byte in the pipe", poll(fds, 2, 0));
    printf("revents %#x %#x\n", fds[0].revents, fds[1].revents);
    char c;
    read(p[0], &c, 1);
    long start = now_ms();
    show("poll, 50 ms timeout", poll(fds, 1, 50));
    printf("waited at least 45 ms: %s\n", now_ms() - start >= 45 ? "yes" : "no");
    struct timespec ts = {0, 30000000};
    long n = syscall(SYS_ppoll, fds, 1, &ts, NULL, 8);
    show("ppoll syscall, 30 ms", n);
    printf("time left written back, within 0..30 ms: %s\n", ts.tv_sec == 0 && ts.tv_nsec >= 0 && ts.tv_nsec < 30000000 ? "yes" : "no");
    ts.tv_nsec = 1000000000;
    show("ppoll, tv_nsec 1e9", syscall(SYS_ppoll, fds, 1, &ts, NULL, 8));
    show("ppoll, sigsetsize 4", syscall(SYS_ppoll, fds, 1, NULL, &ts, 4));
    show("ppoll, bad pollfd pointer", syscall(SYS_ppoll, (void *)16, 1, NULL, NULL, 8));
    int maps = open("/proc/self/maps", O_RDONLY);
    struct pollfd file = {maps, POLLIN | POLLOUT | POLLPRI, 0};
    show("poll /proc/self/maps", poll(&file, 1, -1));
    printf("revents %#x\n", file.revents);
    close(maps);
    write(p[1], "x", 1);
    close(p[1]);
    fds[0].events = POLLIN;
    poll(fds, 1, 0);
    printf("writer closed, data left: revents %#x\n", fds[0].revents);
    read(p[0], &c, 1);
    poll(fds, 1, 0);
    printf("writer closed, drained: revents %#x\n", fds[0].revents);
    close(p[0]);
}

static void selects(void) {
    printf("-- pselect6\n");
    int p[2];
    pipe(p);
    fd_set in, out;
    FD_ZERO(&in);
    FD_ZERO(&out);
    FD_SET(p[0], &in);
    FD_SET(p[1], &out);
    struct timeval tv = {0, 0};
    show("select, empty pipe", select(p[1] + 1, &in, &out, NULL, &tv));
    printf("read end %d, write end %d\n", FD_ISSET(p[0], &in), FD_ISSET(p[1], &out));
    write(p[1], "y", 1);
    FD_SET(p[0], &in);
    show("select, a byte", select(p[1] + 1, &in, NULL, NULL, NULL));
    printf("read end %d\n", FD_ISSET(p[0], &in));
    char c;
    read(p[0], &c, 1);
    FD_SET(p[0], &in);
    struct timespec ts = {0, 40000000};
    long start = now_ms();
    show("pselect, 40 ms timeout", pselect(p[0] + 1, &in, NULL, NULL, &ts, NULL));
    printf("set cleared %d, waited at least 35 ms: %s\n", FD_ISSET(p[0], &in), now_ms() - start >= 35 ? "yes" : "no");
    FD_ZERO(&in);
    FD_SET(60, &in);
    tv.tv_usec = 0;
    show("select on a closed fd", select(61, &in, NULL, NULL, &tv));
    show("select, nfds -1", select(-1, NULL, NULL, NULL, &tv));
    close(p[0]);
    close(p[1]);
}

static void events(void) {
    printf("-- eventfd, timerfd\n");
    int e = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    uint64_t v = 0;
    show("read an empty eventfd", read(e, &v, 8));
    v = 3;
    write(e, &v, 8);
    struct pollfd fds = {e, POLLIN, 0};
    show("poll after adding 3", poll(&fds, 1, 0));
    read(e, &v, 8);
    printf("read %llu, F_GETFD %d, F_GETFL O_NONBLOCK %d\n", (unsigned long long)v, fcntl(e, F_GETFD),
           !!(fcntl(e, F_GETFL) & O_NONBLOCK));
    close(e);
    e = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
    read(e, &v, 8);
    printf("semaphore: read %llu", (unsigned long long)v);
    read(e, &v, 8);
    printf(", %llu", (unsigned long long)v);
    printf(", then %ld\n", (long)read(e, &v, 8));
    close(e);
    show("eventfd, bad flags", eventfd(0, 0x100));

    int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    /* Long enough that a loaded machine cannot let it fire before the read below. */
    struct itimerspec spec = {{0, 0}, {0, 500000000}}, old, cur;
    show("timerfd_settime 500 ms", timerfd_settime(t, 0, &spec, &old));
    timerfd_gettime(t, &cur);
    printf("armed: %s, old disarmed: %s\n", cur.it_value.tv_nsec > 0 ? "yes" : "no",
           old.it_value.tv_sec == 0 && old.it_value.tv_nsec == 0 ? "yes" : "no");
    show("read before it fires", read(t, &v, 8));
    fds.fd = t;
    show("poll until it fires", poll(&fds, 1, 2000));
    read(t, &v, 8);
    printf("expirations %llu\n", (unsigned long long)v);
    spec.it_interval.tv_nsec = 5000000;
    spec.it_value.tv_nsec = 5000000;
    timerfd_settime(t, 0, &spec, NULL);
    usleep(30000);
    read(t, &v, 8);
    printf("interval timer fired several times: %s\n", v >= 2 ? "yes" : "no");
    struct timespec past;
    clock_gettime(CLOCK_MONOTONIC, &past);
    spec.it_interval.tv_nsec = 0;
    spec.it_value = past;
    timerfd_settime(t, TFD_TIMER_ABSTIME, &spec, NULL);
    show("absolute time in the past: read", read(t, &v, 8));
    show("timerfd_create, bad clock", timerfd_create(42, 0));
    show("timerfd_settime on an eventfd", timerfd_settime(e = eventfd(0, 0), 0, &spec, NULL));
    close(e);
    close(t);
}

static void epolls(void) {
    printf("-- epoll\n");
    int ep = epoll_create1(EPOLL_CLOEXEC);
    printf("epoll F_GETFD %d\n", fcntl(ep, F_GETFD));
    int a[2], b[2], c[2];
    pipe(a);
    pipe(b);
    pipe(c);
    struct epoll_event ev = {0}, out[4];
    ev.events = EPOLLIN;
    ev.data.u64 = 0x1122334455667788ull;
    show("add pipe a (level)", epoll_ctl(ep, EPOLL_CTL_ADD, a[0], &ev));
    ev.events = EPOLLIN | EPOLLET;
    ev.data.u64 = 2;
    show("add pipe b (edge)", epoll_ctl(ep, EPOLL_CTL_ADD, b[0], &ev));
    ev.events = EPOLLIN | EPOLLONESHOT;
    ev.data.u64 = 3;
    show("add pipe c (one shot)", epoll_ctl(ep, EPOLL_CTL_ADD, c[0], &ev));
    show("wait, nothing ready", epoll_wait(ep, out, 4, 0));
    write(a[1], "a", 1);
    show("wait, a ready", epoll_wait(ep, out, 4, 0));
    printf("events %#x data %#llx\n", out[0].events, (unsigned long long)out[0].data.u64);
    show("again: level triggered", epoll_wait(ep, out, 4, 0));
    write(b[1], "b", 1);
    write(c[1], "c", 1);
    int n = epoll_wait(ep, out, 4, 0);
    unsigned long long seen = 0;
    for (int k = 0; k < n; k++) seen |= 1ull << (out[k].data.u64 == 2 ? 2 : out[k].data.u64 == 3 ? 3 : 1);
    printf("a, b and c: %d events, set %#llx\n", n, seen);
    show("maxevents 1", epoll_wait(ep, out, 1, 0));
    n = epoll_wait(ep, out, 4, 0);
    printf("b (edge) and c (one shot) quiet now: %d event(s), data %llu\n", n, (unsigned long long)out[0].data.u64);
    write(b[1], "b", 1);
    write(c[1], "c", 1);
    n = epoll_wait(ep, out, 4, 0);
    seen = 0;
    for (int k = 0; k < n; k++) seen |= 1ull << (out[k].data.u64 > 3 ? 1 : out[k].data.u64);
    printf("new data: %d events, set %#llx (c stays disarmed)\n", n, seen);
    ev.events = EPOLLIN | EPOLLONESHOT;
    ev.data.u64 = 3;
    show("re-arm c with EPOLL_CTL_MOD", epoll_ctl(ep, EPOLL_CTL_MOD, c[0], &ev));
    n = epoll_wait(ep, out, 4, 0);
    seen = 0;
    for (int k = 0; k < n; k++) seen |= 1ull << (out[k].data.u64 > 3 ? 1 : out[k].data.u64);
    printf("after re-arming: %d events, set %#llx\n", n, seen);
    show("delete a", epoll_ctl(ep, EPOLL_CTL_DEL, a[0], NULL));
    show("delete a again", epoll_ctl(ep, EPOLL_CTL_DEL, a[0], NULL));
    ev.events = EPOLLIN;
    show("add b again", epoll_ctl(ep, EPOLL_CTL_ADD, b[0], &ev));
    show("add the epoll to itself", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev));
    show("add a closed fd", epoll_ctl(ep, EPOLL_CTL_ADD, 90, &ev));
    show("bad op", epoll_ctl(ep, 7, a[0], &ev));
    int file = open("plain.txt", O_CREAT | O_RDWR, 0644);
    show("add a regular file", epoll_ctl(ep, EPOLL_CTL_ADD, file, &ev));
    int maps = open("/proc/self/maps", O_RDONLY);
    show("add /proc/self/maps", epoll_ctl(ep, EPOLL_CTL_ADD, maps, &ev));
    show("epoll_ctl on a pipe", epoll_ctl(a[0], EPOLL_CTL_ADD, b[0], &ev));
    show("epoll_wait, maxevents 0", epoll_wait(ep, out, 0, 0));
    show("epoll_wait on a pipe", epoll_wait(a[0], out, 1, 0));
    close(file);
    close(maps);

    write(b[1], "b", 1);
    int outer = epoll_create1(0);
    ev.events = EPOLLIN;
    ev.data.u64 = 77;
    epoll_ctl(outer, EPOLL_CTL_ADD, ep, &ev);
    n = epoll_wait(outer, out, 4, 0);
    printf("nested: %d event(s), data %llu\n", n, n > 0 ? (unsigned long long)out[0].data.u64 : 0ull);

    int t = timerfd_create(CLOCK_MONOTONIC, 0);
    ev.data.u64 = 99;
    epoll_ctl(ep, EPOLL_CTL_ADD, t, &ev);
    epoll_ctl(ep, EPOLL_CTL_DEL, b[0], NULL);
    epoll_ctl(ep, EPOLL_CTL_DEL, c[0], NULL);
    struct itimerspec spec = {{0, 0}, {0, 10000000}};
    timerfd_settime(t, 0, &spec, NULL);
    n = epoll_wait(ep, out, 4, 2000);
    printf("timerfd through epoll: %d event(s), data %llu\n", n, n > 0 ? (unsigned long long)out[0].data.u64 : 0ull);
    uint64_t v;
    read(t, &v, 8);
    long start = now_ms();
    show("epoll_wait, 30 ms timeout", epoll_wait(ep, out, 4, 30));
    printf("waited at least 25 ms: %s\n", now_ms() - start >= 25 ? "yes" : "no");
    close(t);
    close(outer);
    close(ep);
    for (int k = 0; k < 2; k++) {
        close(a[k]);
        close(b[k]);
        close(c[k]);
    }
}

/* A pending SIGUSR1, blocked; each wait lets it through with its mask argument. */
static void masks(int flags, const char *title) {
    printf("-- signal masks, %s\n", title);
    handle(flags);
    block(SIGUSR1);
    int p[2];
    pipe(p);
    sigset_t open_mask;
    sigemptyset(&open_mask);
    struct pollfd fds = {p[0], POLLIN, 0};
    struct timespec ts = {5, 0};

    handled = 0;
    raise(SIGUSR1);
    long start = now_ms();
    show("ppoll, mask lets SIGUSR1 through", ppoll(&fds, 1, &ts, &open_mask));
    printf("handler ran %d, blocked again %d, at once %s\n", handled, blocked(SIGUSR1), now_ms() - start < 2000 ? "yes" : "no");

    handled = 0;
    raise(SIGUSR1);
    fd_set in;
    FD_ZERO(&in);
    FD_SET(p[0], &in);
    show("pselect, mask lets SIGUSR1 through", pselect(p[0] + 1, &in, NULL, NULL, &ts, &open_mask));
    printf("handler ran %d, blocked again %d\n", handled, blocked(SIGUSR1));

    handled = 0;
    raise(SIGUSR1);
    int ep = epoll_create1(0);
    struct epoll_event ev = {EPOLLIN, {.u64 = 5}}, out;
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    show("epoll_pwait, mask lets SIGUSR1 through", epoll_pwait(ep, &out, 1, 5000, &open_mask));
    printf("handler ran %d, blocked again %d\n", handled, blocked(SIGUSR1));

    handled = 0;
    raise(SIGUSR1);
    show("epoll_pwait, zero timeout, let through", epoll_pwait(ep, &out, 1, 0, &open_mask));
    printf("handler ran %d, still pending %d\n", handled, pending(SIGUSR1));
    struct timespec zero = {0, 0};
    show("ppoll, zero timeout, let through", ppoll(&fds, 1, &zero, &open_mask));
    printf("handler ran %d, still pending %d\n", handled, pending(SIGUSR1));

    handled = 0;
    raise(SIGUSR1);
    write(p[1], "z", 1);
    show("ppoll, mask lets it through, fd ready", ppoll(&fds, 1, &ts, &open_mask));
    printf("handler ran %d, still pending %d\n", handled, pending(SIGUSR1));
    show("epoll_pwait, same", epoll_pwait(ep, &out, 1, 5000, &open_mask));
    printf("handler ran %d, still pending %d\n", handled, pending(SIGUSR1));
    sigprocmask(SIG_UNBLOCK, &open_mask, NULL);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_UNBLOCK, &usr1, NULL);
    printf("unblocked: handler ran %d\n", handled);
    show("ppoll, sigsetsize 16", syscall(SYS_ppoll, &fds, 1, NULL, &open_mask, 16));
    close(ep);
    close(p[0]);
    close(p[1]);
}

static void signalfds(void) {
    printf("-- signalfd\n");
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    sigdelset(&set, SIGUSR1);
    int s = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    struct signalfd_siginfo info[3];
    show("read, nothing pending", read(s, info, sizeof info));
    struct pollfd fds = {s, POLLIN, 0};
    show("poll, nothing pending", poll(&fds, 1, 0));
    raise(SIGUSR2);
    show("poll after raise(SIGUSR2)", poll(&fds, 1, 0));
    show("read with 100 bytes of room", read(s, info, 100));
    show("read", read(s, info, sizeof info));
    printf("signo %u (SIGUSR2 %d), still pending %d\n", info[0].ssi_signo, SIGUSR2, pending(SIGUSR2));
    show("poll after the read", poll(&fds, 1, 0));

    int ep = epoll_create1(0);
    struct epoll_event ev = {EPOLLIN, {.u64 = 12}}, out;
    epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
    show("epoll, nothing pending", epoll_wait(ep, &out, 1, 0));
    raise(SIGUSR2);
    show("epoll after raise", epoll_wait(ep, &out, 1, 100));

    sigaddset(&set, SIGUSR1);
    show("signalfd4 on it: add SIGUSR1", signalfd(s, &set, 0));
    raise(SIGUSR1);
    show("read both", read(s, info, sizeof info));
    printf("signos %u %u\n", info[0].ssi_signo, info[1].ssi_signo);
    int flags = fcntl(s, F_GETFL);
    fcntl(s, F_SETFL, flags & ~O_NONBLOCK);
    raise(SIGUSR2);
    show("blocking read, one pending", read(s, info, sizeof info));
    fcntl(s, F_SETFL, flags);
    show("write to a signalfd", write(s, info, sizeof info[0]));
    int p[2];
    pipe(p);
    show("signalfd4 on a pipe", signalfd(p[0], &set, 0));
    show("signalfd4, bad flags", syscall(SYS_signalfd4, -1, &set, 8, 1));
    close(p[0]);
    close(p[1]);
    close(ep);
    close(s);
}

/* Blocks until the test's signals end each wait (run with "wait"). */
static int waits(void) {
    handle(0);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);  /* for the signalfd at the end: SIGUSR2 may come early */
    printf("ready\n");
    fflush(stdout);
    int p[2];
    pipe(p);
    struct pollfd fds = {p[0], POLLIN, 0};
    /* SIGWINCH (ignored by default) keeps arriving: the timeout still ends the wait on time. */
    long start = now_ms();
    long n = poll(&fds, 1, 1500);
    long waited = now_ms() - start;
    printf("timed poll: %ld, on time: %s\n", n, waited >= 1400 && waited < 2400 ? "yes" : "no");
    fflush(stdout);
    /* Now SIGUSR1: the unbounded poll ends with EINTR after the handler. */
    n = poll(&fds, 1, -1);
    printf("poll: %ld %s, handler ran %d\n", n, n < 0 ? strerrorname_np(errno) : "", handled);
    fflush(stdout);
    int ep = epoll_create1(0);
    struct epoll_event ev = {EPOLLIN, {.u64 = 1}}, out;
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    n = epoll_wait(ep, &out, 1, -1);
    printf("epoll_wait: %ld %s, handler ran %d\n", n, n < 0 ? strerrorname_np(errno) : "", handled);
    fflush(stdout);
    int s = signalfd(-1, &set, 0);
    struct signalfd_siginfo info;
    n = read(s, &info, sizeof info);
    printf("signalfd read: %ld, signo %u\n", n, n > 0 ? info.ssi_signo : 0);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "wait") == 0) return waits();
    setvbuf(stdout, NULL, _IOLBF, 0);
    polls();
    selects();
    events();
    epolls();
    masks(0, "no SA_RESTART");
    masks(SA_RESTART, "SA_RESTART");
    signalfds();
    printf("done\n");
    return 0;
}
