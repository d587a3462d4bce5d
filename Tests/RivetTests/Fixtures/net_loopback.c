/* Sockets (run with the network grant): a TCP server and client in one process over
 * 127.0.0.1, non-blocking and driven by epoll (bind to port 0, getsockname, connect, accept4,
 * send/recv, shutdown, SO_REUSEADDR, SO_ERROR, SO_TYPE); UDP with sendto/recvfrom, sendmsg/
 * recvmsg and sendmmsg/recvmmsg; a Unix socket pair passing descriptors with SCM_RIGHTS (a
 * file and a pipe end, read and written through; MSG_CMSG_CLOEXEC; a control buffer too small
 * for both: MSG_CTRUNC); and Unix-domain sockets bound in the working directory (getsockname,
 * getpeername, a datagram sent to a path, EADDRINUSE, ECONNREFUSED, ENOENT). Every wait is
 * bounded.
 * rivet-fixture: net */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static void show(const char *what, long result) {
    if (result < 0)
        printf("%-44s -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%-44s %ld\n", what, result);
}

static int option(int fd, int level, int name) {
    int value = -1;
    socklen_t length = sizeof value;
    if (getsockopt(fd, level, name, &value, &length) < 0) return -errno;
    return value;
}

static void tcp(void) {
    printf("-- TCP over 127.0.0.1\n");
    int server = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    printf("server socket: %s, F_GETFD %d, O_NONBLOCK %d\n", server >= 0 ? "yes" : strerrorname_np(errno),
           fcntl(server, F_GETFD), !!(fcntl(server, F_GETFL) & O_NONBLOCK));
    int one = 1;
    show("setsockopt SO_REUSEADDR", setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
    printf("SO_REUSEADDR %d, SO_TYPE %d (SOCK_STREAM %d)\n", option(server, SOL_SOCKET, SO_REUSEADDR) != 0,
           option(server, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    show("bind 127.0.0.1:0", bind(server, (struct sockaddr *)&address, sizeof address));
    socklen_t length = sizeof address;
    show("getsockname", getsockname(server, (struct sockaddr *)&address, &length));
    printf("length %u, family %d, a port was chosen: %s\n", length, address.sin_family, address.sin_port ? "yes" : "no");
    show("listen", listen(server, 8));

    int client = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int started = connect(client, (struct sockaddr *)&address, sizeof address);
    printf("non-blocking connect started: %s\n", started == 0 || errno == EINPROGRESS ? "yes" : strerrorname_np(errno));

    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {EPOLLIN, {.u64 = 1}}, out[4];
    epoll_ctl(ep, EPOLL_CTL_ADD, server, &ev);
    ev.events = EPOLLOUT;
    ev.data.u64 = 2;
    epoll_ctl(ep, EPOLL_CTL_ADD, client, &ev);
    int accepted = -1, connected = 0;
    struct sockaddr_in peer;
    for (int round = 0; round < 50 && (accepted < 0 || !connected); round++) {
        int n = epoll_wait(ep, out, 4, 100);
        for (int k = 0; k < n; k++) {
            if (out[k].data.u64 == 1 && accepted < 0) {
                length = sizeof peer;
                accepted = accept4(server, (struct sockaddr *)&peer, &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
            } else if (out[k].data.u64 == 2 && !connected) {
                connected = 1;
                printf("client writable, SO_ERROR %d\n", option(client, SOL_SOCKET, SO_ERROR));
                epoll_ctl(ep, EPOLL_CTL_DEL, client, NULL);
            }
        }
    }
    printf("accepted: %s, peer 127.0.0.1: %s, F_GETFD %d, O_NONBLOCK %d\n", accepted >= 0 ? "yes" : "no",
           peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK) ? "yes" : "no", fcntl(accepted, F_GETFD),
           !!(fcntl(accepted, F_GETFL) & O_NONBLOCK));
    struct sockaddr_in name;
    length = sizeof name;
    getpeername(client, (struct sockaddr *)&name, &length);
    printf("client's peer is the server's port: %s\n", name.sin_port == address.sin_port ? "yes" : "no");
    length = sizeof name;
    getsockname(accepted, (struct sockaddr *)&name, &length);
    printf("accepted socket's name is the server's port: %s\n", name.sin_port == address.sin_port ? "yes" : "no");
    length = sizeof name;
    getsockname(client, (struct sockaddr *)&name, &length);
    printf("client's port is the accepted peer's: %s\n", name.sin_port == peer.sin_port ? "yes" : "no");
    length = 4;
    show("getsockname with 4 bytes of room", getsockname(client, (struct sockaddr *)&name, &length));
    printf("full length reported: %u\n", length);

    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = 3;
    epoll_ctl(ep, EPOLL_CTL_ADD, accepted, &ev);
    show("send hello", send(client, "hello", 5, 0));
    int n = epoll_wait(ep, out, 4, 2000);
    printf("accepted readable: %d event(s), EPOLLIN %d\n", n, n > 0 && (out[0].events & EPOLLIN) != 0);
    char buffer[64] = {0};
    show("recv", recv(accepted, buffer, sizeof buffer, 0));
    printf("got \"%s\"\n", buffer);
    show("recv, nothing more (non-blocking)", recv(accepted, buffer, sizeof buffer, 0));
    show("send reply", send(accepted, "world", 5, MSG_NOSIGNAL));
    struct pollfd pfd = {client, POLLIN, 0};
    poll(&pfd, 1, 2000);
    memset(buffer, 0, sizeof buffer);
    show("recv reply, MSG_PEEK", recv(client, buffer, sizeof buffer, MSG_PEEK));
    show("recv reply", recv(client, buffer, sizeof buffer, 0));
    printf("got \"%s\"\n", buffer);
    show("shutdown(client, SHUT_WR)", shutdown(client, SHUT_WR));
    n = epoll_wait(ep, out, 4, 2000);
    printf("accepted sees the end: EPOLLRDHUP %d\n", n > 0 && (out[0].events & EPOLLRDHUP) != 0);
    show("recv at the end", recv(accepted, buffer, sizeof buffer, 0));
    show("TCP_NODELAY", setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
    printf("TCP_NODELAY now %d\n", option(client, IPPROTO_TCP, TCP_NODELAY) != 0);
    show("getsockopt, bad level", option(client, 12345, 1));
    show("shutdown, bad how", shutdown(client, 7));
    close(accepted);
    close(client);
    close(server);
    close(ep);
}

static void udp(void) {
    printf("-- UDP\n");
    int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)}, aname, bname, from;
    bind(a, (struct sockaddr *)&address, sizeof address);
    bind(b, (struct sockaddr *)&address, sizeof address);
    socklen_t length = sizeof aname;
    getsockname(a, (struct sockaddr *)&aname, &length);
    length = sizeof bname;
    getsockname(b, (struct sockaddr *)&bname, &length);
    show("sendto", sendto(a, "dgram", 5, 0, (struct sockaddr *)&bname, sizeof bname));
    struct pollfd pfd = {b, POLLIN, 0};
    poll(&pfd, 1, 2000);
    char buffer[64] = {0};
    length = sizeof from;
    show("recvfrom", recvfrom(b, buffer, sizeof buffer, 0, (struct sockaddr *)&from, &length));
    printf("got \"%s\" from a's port: %s\n", buffer, from.sin_port == aname.sin_port ? "yes" : "no");
    show("recvfrom, nothing more", recvfrom(b, buffer, sizeof buffer, 0, NULL, NULL));

    struct iovec parts[2] = {{"two ", 4}, {"parts", 5}};
    struct msghdr message = {.msg_name = &bname, .msg_namelen = sizeof bname, .msg_iov = parts, .msg_iovlen = 2};
    show("sendmsg, two iovecs", sendmsg(a, &message, 0));
    poll(&pfd, 1, 2000);
    char first[3], rest[16] = {0};
    struct iovec into[2] = {{first, 3}, {rest, sizeof rest - 1}};
    struct msghdr received = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = into, .msg_iovlen = 2};
    show("recvmsg, two iovecs", recvmsg(b, &received, 0));
    printf("got \"%.3s\" + \"%s\", namelen %u, flags %#x\n", first, rest, received.msg_namelen, received.msg_flags);

    struct mmsghdr batch[2];
    struct iovec one = {"first", 5}, two = {"second", 6};
    memset(batch, 0, sizeof batch);
    batch[0].msg_hdr = (struct msghdr){.msg_name = &bname, .msg_namelen = sizeof bname, .msg_iov = &one, .msg_iovlen = 1};
    batch[1].msg_hdr = (struct msghdr){.msg_name = &bname, .msg_namelen = sizeof bname, .msg_iov = &two, .msg_iovlen = 1};
    show("sendmmsg, two messages", sendmmsg(a, batch, 2, 0));
    printf("msg_len %u %u\n", batch[0].msg_len, batch[1].msg_len);
    usleep(20000);
    poll(&pfd, 1, 2000);
    char x[16] = {0}, y[16] = {0};
    struct iovec ix = {x, 15}, iy = {y, 15};
    memset(batch, 0, sizeof batch);
    batch[0].msg_hdr.msg_iov = &ix;
    batch[0].msg_hdr.msg_iovlen = 1;
    batch[1].msg_hdr.msg_iov = &iy;
    batch[1].msg_hdr.msg_iovlen = 1;
    show("recvmmsg, MSG_WAITFORONE", recvmmsg(b, batch, 2, MSG_WAITFORONE, NULL));
    printf("\"%s\" (%u) \"%s\" (%u)\n", x, batch[0].msg_len, y, batch[1].msg_len);
    show("sendmsg, 1025 iovecs", sendmsg(a, &(struct msghdr){.msg_iov = parts, .msg_iovlen = 1025}, 0));
    show("send on an unconnected socket", send(a, "x", 1, 0));
    close(a);
    close(b);
}

static int receive_rights(int socket, int *fds, int room, int flags, int *message_flags) {
    char byte;
    struct iovec part = {&byte, 1};
    char control[CMSG_SPACE(3 * sizeof(int))];
    memset(control, 0, sizeof control);
    struct msghdr message = {.msg_iov = &part, .msg_iovlen = 1, .msg_control = control,
                             .msg_controllen = room == 1 ? CMSG_LEN(sizeof(int)) : sizeof control};
    if (recvmsg(socket, &message, flags) < 0) return -errno;
    *message_flags = message.msg_flags;
    int count = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&message); c; c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            memcpy(fds + count, CMSG_DATA(c), n * sizeof(int));
            count += n;
        }
    }
    return count;
}

static int send_rights(int socket, const int *fds, int count) {
    struct iovec part = {"F", 1};
    char control[CMSG_SPACE(3 * sizeof(int))];
    memset(control, 0, sizeof control);
    struct msghdr message = {.msg_iov = &part, .msg_iovlen = 1, .msg_control = control,
                             .msg_controllen = CMSG_SPACE(count * sizeof(int))};
    struct cmsghdr *c = CMSG_FIRSTHDR(&message);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(count * sizeof(int));
    memcpy(CMSG_DATA(c), fds, count * sizeof(int));
    return sendmsg(socket, &message, 0);
}

static void rights(void) {
    printf("-- SCM_RIGHTS over a Unix socket pair\n");
    int pair[2];
    show("socketpair", socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair));
    int file = open("passed.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
    write(file, "through the descriptor\n", 23);
    lseek(file, 8, SEEK_SET);
    show("sendmsg with a file", send_rights(pair[0], &file, 1));
    int got[3], flags = 0;
    int count = receive_rights(pair[1], got, 3, 0, &flags);
    printf("received %d descriptor(s), new number: %s, MSG_CTRUNC %d, F_GETFD %d\n", count, got[0] != file ? "yes" : "no",
           !!(flags & MSG_CTRUNC), fcntl(got[0], F_GETFD));
    char buffer[64] = {0};
    show("read through it (shared offset 8)", read(got[0], buffer, sizeof buffer - 1));
    printf("\"%s\"", buffer);
    printf("offset now shared: %ld\n", (long)lseek(file, 0, SEEK_CUR));
    close(got[0]);

    int p[2];
    pipe(p);
    int both[2] = {p[0], p[1]};
    show("sendmsg with both pipe ends", send_rights(pair[0], both, 2));
    count = receive_rights(pair[1], got, 3, MSG_CMSG_CLOEXEC, &flags);
    printf("received %d, MSG_CMSG_CLOEXEC gives F_GETFD %d %d\n", count, fcntl(got[0], F_GETFD), fcntl(got[1], F_GETFD));
    write(got[1], "piped", 5);
    memset(buffer, 0, sizeof buffer);
    read(p[0], buffer, sizeof buffer);
    printf("written through the received end, read at the original: \"%s\"\n", buffer);
    close(got[0]);
    close(got[1]);

    show("sendmsg with both ends again", send_rights(pair[0], both, 2));
    count = receive_rights(pair[1], got, 1, 0, &flags);
    printf("room for one: received %d\n", count); /* MSG_CTRUNC: qemu 7.2 leaves it out; net_sandbox.c */
    close(got[0]);
    int bad = 77;
    show("sendmsg with a closed descriptor", send_rights(pair[0], &bad, 1));
    close(p[0]);
    close(p[1]);
    close(file);
    close(pair[0]);
    close(pair[1]);
}

static void unix_paths(void) {
    printf("-- Unix sockets at paths\n");
    int server = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    strcpy(address.sun_path, "server.sock");
    socklen_t size = offsetof(struct sockaddr_un, sun_path) + strlen(address.sun_path) + 1;
    show("bind server.sock", bind(server, (struct sockaddr *)&address, size));
    struct stat info;
    printf("a socket file now: %d\n", stat("server.sock", &info) == 0 && S_ISSOCK(info.st_mode));
    show("listen", listen(server, 4));
    struct sockaddr_un name;
    socklen_t length = sizeof name;
    show("getsockname", getsockname(server, (struct sockaddr *)&name, &length));
    printf("\"%s\", length %u\n", name.sun_path, length);
    int client = socket(AF_UNIX, SOCK_STREAM, 0);
    show("connect", connect(client, (struct sockaddr *)&address, size));
    length = sizeof name;
    int accepted = accept(server, (struct sockaddr *)&name, &length);
    printf("accepted: %s, peer address length %u (unnamed)\n", accepted >= 0 ? "yes" : "no", length);
    length = sizeof name;
    memset(&name, 0, sizeof name);
    getpeername(client, (struct sockaddr *)&name, &length);
    printf("client's peer: \"%s\", length %u\n", name.sun_path, length);
    length = sizeof name;
    memset(&name, 0, sizeof name);
    getsockname(accepted, (struct sockaddr *)&name, &length);
    printf("accepted socket's name: \"%s\"\n", name.sun_path);
    write(client, "ping", 4);
    char buffer[16] = {0};
    read(accepted, buffer, sizeof buffer);
    printf("got \"%s\"\n", buffer);
    show("bind to the same path again", bind(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&address, size));
    close(open("plain.txt", O_CREAT | O_WRONLY, 0644));
    strcpy(address.sun_path, "plain.txt");
    show("connect to a plain file", connect(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&address, sizeof address));
    strcpy(address.sun_path, "missing.sock");
    show("connect to a missing path", connect(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&address, sizeof address));
    strcpy(address.sun_path, "no-such-dir/x.sock");
    show("bind in a missing directory", bind(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&address, sizeof address));

    int receiver = socket(AF_UNIX, SOCK_DGRAM, 0), sender = socket(AF_UNIX, SOCK_DGRAM, 0);
    strcpy(address.sun_path, "receiver.sock");
    bind(receiver, (struct sockaddr *)&address, sizeof address);
    struct sockaddr_un from_address = {.sun_family = AF_UNIX};
    strcpy(from_address.sun_path, "sender.sock");
    bind(sender, (struct sockaddr *)&from_address, sizeof from_address);
    show("sendto receiver.sock", sendto(sender, "note", 4, 0, (struct sockaddr *)&address, sizeof address));
    memset(buffer, 0, sizeof buffer);
    length = sizeof name;
    memset(&name, 0, sizeof name);
    show("recvfrom", recvfrom(receiver, buffer, sizeof buffer, 0, (struct sockaddr *)&name, &length));
    printf("got \"%s\" from \"%s\"\n", buffer, name.sun_path);
    show("unlink server.sock", unlink("server.sock"));
    close(receiver);
    close(sender);
    close(accepted);
    close(client);
    close(server);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    tcp();
    udp();
    rights();
    unix_paths();
    printf("done\n");
    return 0;
}
