/* The network grant and the file grants around sockets. Without arguments (the fixture matrix
 * runs it so, without --net): socket(2) of every family fails with EACCES, and so does naming
 * an address on the only sockets there are, socketpair(AF_UNIX)'s, which work like pipes
 * (data, poll, SCM_RIGHTS, and MSG_CTRUNC when the control buffer holds fewer descriptors than
 * were sent, as Linux sets it; qemu 7.2 does not). With "net OUTSIDE READONLY RO_SOCKET" (run
 * by NetworkTests with --net): families Rivet does not support fail with EAFNOSUPPORT;
 * a Unix socket bound or connected outside the grants fails as open(2) there fails; in a
 * read-only grant bind fails with EROFS, as creating a file there does, while connecting to a
 * socket there works (like writing to a FIFO in a read-only grant).
 * rivet-fixture: no-qemu */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void show(const char *what, long result) {
    if (result < 0)
        printf("%-44s -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%-44s %ld\n", what, result);
}

static struct sockaddr_un unix_address(const char *path) {
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    strncpy(address.sun_path, path, sizeof address.sun_path - 1);
    return address;
}

static const char *error_of(long result) { return result < 0 ? strerrorname_np(errno) : "success"; }

static void without_grant(void) {
    show("socket(AF_INET, SOCK_STREAM)", socket(AF_INET, SOCK_STREAM, 0));
    show("socket(AF_INET6, SOCK_DGRAM)", socket(AF_INET6, SOCK_DGRAM, 0));
    show("socket(AF_UNIX, SOCK_STREAM)", socket(AF_UNIX, SOCK_STREAM, 0));
    show("socket(AF_NETLINK, SOCK_RAW)", socket(AF_NETLINK, SOCK_RAW, 0));
    int pair[2];
    show("socketpair(AF_INET)", socketpair(AF_INET, SOCK_STREAM, 0, pair));
    show("socketpair(AF_UNIX, SOCK_STREAM)", socketpair(AF_UNIX, SOCK_STREAM, 0, pair));
    show("write", write(pair[0], "pair", 4));
    struct pollfd fds = {pair[1], POLLIN, 0};
    show("poll the other end", poll(&fds, 1, 1000));
    char buffer[8] = {0};
    show("read", read(pair[1], buffer, sizeof buffer));
    printf("got \"%s\"\n", buffer);

    /* Two descriptors sent, room for one received. */
    int p[2];
    pipe(p);
    char control[CMSG_SPACE(2 * sizeof(int))];
    memset(control, 0, sizeof control);
    struct iovec part = {"R", 1};
    struct msghdr message = {.msg_iov = &part, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    struct cmsghdr *c = CMSG_FIRSTHDR(&message);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(2 * sizeof(int));
    memcpy(CMSG_DATA(c), p, sizeof p);
    show("sendmsg, two descriptors", sendmsg(pair[0], &message, 0));
    char byte;
    struct iovec into = {&byte, 1};
    memset(control, 0, sizeof control);
    struct msghdr received = {.msg_iov = &into, .msg_iovlen = 1, .msg_control = control,
                              .msg_controllen = CMSG_LEN(sizeof(int))};
    show("recvmsg, room for one", recvmsg(pair[1], &received, 0));
    c = CMSG_FIRSTHDR(&received);
    printf("MSG_CTRUNC %d, descriptors %d\n", !!(received.msg_flags & MSG_CTRUNC),
           c ? (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int)) : 0);
    int got = -1;
    if (c) memcpy(&got, CMSG_DATA(c), sizeof got);
    write(p[1], "via", 3);
    memset(buffer, 0, sizeof buffer);
    show("read through the received read end", read(got, buffer, sizeof buffer));

    int datagrams[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, datagrams);
    struct sockaddr_un address = unix_address("bound.sock");
    show("bind a pair's socket to a path", bind(datagrams[0], (struct sockaddr *)&address, sizeof address));
    show("connect it to a path", connect(datagrams[0], (struct sockaddr *)&address, sizeof address));
    show("sendto a path", sendto(datagrams[0], "x", 1, 0, (struct sockaddr *)&address, sizeof address));
    struct msghdr named = {.msg_name = &address, .msg_namelen = sizeof address, .msg_iov = &part, .msg_iovlen = 1};
    show("sendmsg to a path", sendmsg(datagrams[0], &named, 0));
    show("send to its pair", send(datagrams[0], "d", 1, 0));
    show("recv", recv(datagrams[1], buffer, sizeof buffer, 0));
    show("socket(AF_INET) again", socket(AF_INET, SOCK_STREAM, 0));
}

static void with_grant(const char *outside, const char *readonly, const char *readonly_socket) {
    show("socket(AF_NETLINK, SOCK_RAW)", socket(AF_NETLINK, SOCK_RAW, 0));
    show("socket(AF_PACKET, SOCK_DGRAM)", socket(AF_PACKET, SOCK_DGRAM, 0));
    show("socketpair(AF_INET)", socketpair(AF_INET, SOCK_STREAM, 0, (int[2]){0, 0}));
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    printf("socket(AF_UNIX): %s\n", s >= 0 ? "yes" : strerrorname_np(errno));

    /* A socket outside the grants exists on the host: the guest cannot see it. */
    struct sockaddr_un address = unix_address(outside);
    long result = connect(s, (struct sockaddr *)&address, sizeof address);
    printf("connect outside the grants: %s, ", error_of(result));
    printf("open there: %s\n", error_of(open(outside, O_RDWR)));
    char path[200];
    snprintf(path, sizeof path, "%s.new", outside);
    address = unix_address(path);
    result = bind(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&address, sizeof address);
    printf("bind outside the grants: %s, ", error_of(result));
    printf("creating a file there: %s\n", error_of(open(path, O_CREAT | O_WRONLY, 0644)));

    snprintf(path, sizeof path, "%s/new.sock", readonly);
    address = unix_address(path);
    result = bind(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&address, sizeof address);
    printf("bind in a read-only grant: %s, ", error_of(result));
    printf("creating a file there: %s\n", error_of(open(path, O_CREAT | O_WRONLY, 0644)));
    address = unix_address(readonly_socket);
    show("connect to a socket in a read-only grant", connect(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&address, sizeof address));

    /* A symlink in the scratch directory to the socket outside: followed in guest terms. */
    symlink(outside, "link.sock");
    address = unix_address("link.sock");
    result = connect(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&address, sizeof address);
    printf("connect through a symlink leading outside: %s, ", error_of(result));
    printf("open through it: %s\n", error_of(open("link.sock", O_RDWR)));
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 4 && strcmp(argv[1], "net") == 0)
        with_grant(argv[2], argv[3], argv[4]);
    else
        without_grant();
    printf("done\n");
    return 0;
}
