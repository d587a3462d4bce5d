/* The main thread ends with pthread_exit while another runs on: the process lives until the
 * last thread is done, and ends with status 0. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static void *last(void *unused) {
    (void)unused;
    usleep(30000);
    puts("the last thread is done");
    fflush(stdout);
    return NULL;
}

int main(void) {
    pthread_t thread;
    pthread_create(&thread, NULL, last, NULL);
    puts("main calls pthread_exit");
    fflush(stdout);
    pthread_exit(NULL);
}
