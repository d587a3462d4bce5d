/* A server and its client in two threads of one process, over loopback: the server blocks in
 * accept and read while the client thread connects and writes, so blocking socket calls must
 * let the other thread run.
 * rivet-fixture: net */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
static int port;
static void *client(void *a) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    connect(s, (void *)&in, sizeof in);
    write(s, "ping", 4);
    char b[16] = {0}; read(s, b, sizeof b - 1);
    printf("client got %s\n", b); fflush(stdout);
    close(s); return 0;
}
int main(void) {
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(l, (void *)&in, sizeof in); listen(l, 4);
    socklen_t n = sizeof in; getsockname(l, (void *)&in, &n); port = ntohs(in.sin_port);
    pthread_t t; pthread_create(&t, 0, client, 0);
    int c = accept(l, 0, 0);
    char b[16] = {0}; read(c, b, sizeof b - 1);
    printf("server got %s\n", b); fflush(stdout);
    write(c, "pong", 4);
    pthread_join(t, 0); close(c); close(l);
    return 0;
}
