/* Adversarial: the waiting, event-descriptor and socket calls with arguments no sane program
 * passes: unmapped and read-only pointers, counts wider than the kernel's int or unsigned int,
 * negative lengths, bad flags, descriptors of the wrong kind, malformed control messages. The
 * expectations are this program's output on x86-64 Linux (6.x, RLIMIT_NOFILE under 2^31), where
 * the same source runs; qemu 7.2 differs in several (it checks pointers where Linux does not).
 * Two differences are Rivet's on purpose and left out: a buffer that is not mapped fails with
 * EFAULT before the file is asked (Linux may answer EAGAIN first), and a Unix socket name
 * whose last component is longer than about 88 bytes cannot be bound (ENAMETOOLONG).
 * rivet-fixture: net
 * rivet-fixture: cflags -w
 * rivet-fixture: no-qemu */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static void show(const char *what, long result) {
    if (result < 0)
        printf("%-48s -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%-48s %ld\n", what, result);
}

#define BAD ((void *)0x10)

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int p[2];
    pipe(p);
    struct pollfd pfd = {p[0], POLLIN, 0}, writable = {p[1], POLLOUT, 0};
    struct timespec zero = {0, 0};

    show("ppoll, nfds 2^32 + 1 (an unsigned int)", syscall(SYS_ppoll, &writable, (1ul << 32) | 1, NULL, NULL, 8));
    show("ppoll, nfds 2^31 - 1", syscall(SYS_ppoll, &pfd, 0x7fffffff, NULL, NULL, 8));
    show("ppoll, fds unmapped", syscall(SYS_ppoll, BAD, 1, NULL, NULL, 8));
    show("ppoll, fds read-only", syscall(SYS_ppoll, ro, 1, &zero, NULL, 8));
    show("ppoll, timeout unmapped", syscall(SYS_ppoll, &pfd, 1, BAD, NULL, 8));
    show("ppoll, sigmask unmapped", syscall(SYS_ppoll, &pfd, 1, NULL, BAD, 8));
    show("ppoll, timeout read-only (zero)", syscall(SYS_ppoll, &pfd, 1, ro, NULL, 8));
    show("ppoll, negative seconds", syscall(SYS_ppoll, &pfd, 1, &(struct timespec){-1, 0}, NULL, 8));
    show("pselect6, nfds 2^30", syscall(SYS_pselect6, 1 << 30, NULL, NULL, NULL, &zero, NULL));
    show("pselect6, set unmapped", syscall(SYS_pselect6, 8, BAD, NULL, NULL, &zero, NULL));
    show("pselect6, sigset pair unmapped", syscall(SYS_pselect6, 0, NULL, NULL, NULL, &zero, BAD));
    uint64_t sig[2] = {(uint64_t)BAD, 8};
    show("pselect6, sigset unmapped", syscall(SYS_pselect6, 0, NULL, NULL, NULL, &zero, sig));
    sig[0] = 0;
    sig[1] = 3;
    show("pselect6, null sigset of size 3", syscall(SYS_pselect6, 0, NULL, NULL, NULL, &zero, sig));

    show("epoll_create1(-1)", epoll_create1(-1));
    int ep = epoll_create1(0);
    struct epoll_event in = {EPOLLIN, {0}};
    show("epoll_ctl, event unmapped", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], BAD));
    show("epoll_ctl DEL, event unmapped", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], BAD));
    show("epoll_ctl, negative fd", epoll_ctl(ep, EPOLL_CTL_ADD, -5, &in));
    show("epoll_wait, maxevents 2^31 - 1", epoll_wait(ep, (void *)&pfd, 0x7fffffff, 0));
    show("epoll_wait, maxevents -1", epoll_wait(ep, (void *)&pfd, -1, 0));
    show("epoll_wait, events unmapped, none ready", epoll_wait(ep, BAD, 1, 0));
    show("epoll_wait, events read-only, none ready", epoll_wait(ep, (void *)ro, 1, 0));
    show("epoll_pwait, sigsetsize 9", syscall(SYS_epoll_pwait, ep, &pfd, 1, 0, &(uint64_t){0}, 9));

    show("eventfd2, every flag", syscall(SYS_eventfd2, 0, -1));
    show("timerfd_create(CLOCK_REALTIME, -1)", syscall(SYS_timerfd_create, 0, -1));
    int t = syscall(SYS_timerfd_create, 1, 0);
    long spec[4] = {0, 0, 0, 0};
    show("timerfd_settime, value unmapped", syscall(SYS_timerfd_settime, t, 0, BAD, NULL));
    show("timerfd_settime, old unmapped", syscall(SYS_timerfd_settime, t, 0, spec, BAD));
    show("timerfd_settime, bad flags", syscall(SYS_timerfd_settime, t, 99, spec, NULL));
    spec[3] = 2000000000;
    show("timerfd_settime, tv_nsec 2e9", syscall(SYS_timerfd_settime, t, 0, spec, NULL));
    show("timerfd_gettime, unmapped", syscall(SYS_timerfd_gettime, t, BAD));
    show("timerfd_gettime on a pipe", syscall(SYS_timerfd_gettime, p[0], spec));
    show("signalfd4, mask unmapped", syscall(SYS_signalfd4, -1, BAD, 8, 0));
    show("signalfd4 on a closed fd", syscall(SYS_signalfd4, 99, &(uint64_t){0}, 8, 0));
    int s = syscall(SYS_signalfd4, -1, &(uint64_t){0}, 8, SFD_NONBLOCK);
    show("read a signalfd into unmapped memory", read(s, BAD, 128));
    show("read a signalfd, count 2^40", read(s, sig, 1ul << 40));

    show("socket(-1, -1, -1)", socket(-1, -1, -1));
    show("socket(AF_INET, SOCK_STREAM | 0x100, 0)", socket(AF_INET, SOCK_STREAM | 0x100, 0));
    show("socket(AF_INET, 42, 0)", socket(AF_INET, 42, 0));
    int u = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un name = {AF_UNIX, "b"};
    show("bind, address unmapped", bind(u, BAD, 16));
    show("bind, addrlen -1", bind(u, (void *)&name, -1));
    show("bind, addrlen 1000", bind(u, (void *)&name, 1000));
    show("bind, addrlen 1", bind(u, (void *)&name, 1));
    show("bind on a pipe", bind(p[0], (void *)&name, sizeof name));
    show("bind, addrlen 2^32 + 3 (an int)", syscall(SYS_bind, u, &name, (1ul << 32) | 3));
    show("bind again", bind(u, (void *)&name, sizeof name));
    show("connect, AF_INET address, Unix socket", connect(u, (void *)&(struct sockaddr_in){AF_INET}, sizeof(struct sockaddr_in)));
    show("connect on a closed fd", connect(99, (void *)&(struct sockaddr_in){AF_INET}, sizeof(struct sockaddr_in)));
    int v = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un full = {AF_UNIX};
    memset(full.sun_path, 'c', 80);
    show("bind, a name of 80 bytes", bind(v, (void *)&full, sizeof full));
    unlink(full.sun_path);
    show("accept on a datagram socket", accept(u, NULL, NULL));
    show("accept4, bad flags", accept4(u, NULL, NULL, 1));
    int tcp = socket(AF_INET, SOCK_STREAM, 0);
    show("accept, not listening, addrlen unmapped", accept(tcp, (void *)&full, BAD));
    show("getsockname, addrlen unmapped", getsockname(u, (void *)&full, BAD));
    show("getsockname, addrlen -1", getsockname(u, (void *)&full, &(socklen_t){-1}));
    show("getsockname, address unmapped", getsockname(u, BAD, &(socklen_t){16}));
    show("getsockname, address null, room 0", getsockname(u, NULL, &(socklen_t){0}));
    show("getpeername, not connected", getpeername(u, (void *)&full, &(socklen_t){16}));
    show("setsockopt, value unmapped", setsockopt(u, SOL_SOCKET, SO_RCVBUF, BAD, 4));
    show("setsockopt, optlen -1", setsockopt(u, SOL_SOCKET, SO_RCVBUF, &(int){1}, -1));
    show("getsockopt, optlen unmapped", getsockopt(u, SOL_SOCKET, SO_TYPE, &(int){0}, BAD));
    show("getsockopt, optlen -1", getsockopt(u, SOL_SOCKET, SO_TYPE, &(int){0}, &(socklen_t){-1}));
    show("getsockopt, value unmapped", getsockopt(u, SOL_SOCKET, SO_TYPE, BAD, &(socklen_t){4}));
    show("sendto, buffer unmapped", sendto(u, BAD, 10, 0, NULL, 0));
    show("sendmsg, header unmapped", sendmsg(u, BAD, 0));
    show("recvmsg, header unmapped", recvmsg(u, BAD, MSG_DONTWAIT));
    struct msghdr m = {.msg_iov = BAD, .msg_iovlen = 1};
    show("sendmsg, iov unmapped", sendmsg(u, &m, 0));

    char control[64] = {0};
    struct iovec io = {"x", 1};
    struct msghdr c = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = control, .msg_controllen = 20};
    struct cmsghdr *header = (struct cmsghdr *)control;
    header->cmsg_len = 200;
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    int pair[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, pair);
    show("sendmsg, cmsg_len past the buffer", sendmsg(pair[0], &c, 0));
    header->cmsg_len = 8;
    show("sendmsg, cmsg_len 8", sendmsg(pair[0], &c, 0));
    c.msg_controllen = 1ul << 40;
    show("sendmsg, controllen 2^40", sendmsg(pair[0], &c, 0));
    c.msg_control = BAD;
    c.msg_controllen = 32;
    show("sendmsg, control unmapped", sendmsg(pair[0], &c, 0));
    show("sendmmsg, vector unmapped", sendmmsg(pair[0], BAD, 2, 0));
    show("recvmmsg, vector unmapped", recvmmsg(pair[1], BAD, 2, MSG_DONTWAIT, NULL));
    show("recvmmsg, bad timeout", recvmmsg(pair[1], BAD, 2, MSG_DONTWAIT, &(struct timespec){0, -1}));
    show("shutdown on a pipe", shutdown(p[0], SHUT_RD));
    show("listen on a closed fd", listen(99, 1));
    show("socketpair, sv unmapped", socketpair(AF_UNIX, SOCK_STREAM, 0, BAD));
    show("socketpair, sv read-only", socketpair(AF_UNIX, SOCK_STREAM, 0, (int *)ro));
    show("next descriptor (none leaked)", dup(0));
    unlink("b");
    printf("done\n");
    return 0;
}
