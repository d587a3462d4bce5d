/* A fault in a thread without a handler kills the whole process with SIGSEGV, while the main
 * thread waits for it in pthread_join. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static void *fault(void *unused) {
    (void)unused;
    usleep(10000);
    puts("a thread writes to address 8");
    fflush(stdout);
    *(volatile int *)8 = 1;
    return NULL;
}

int main(void) {
    pthread_t thread;
    pthread_create(&thread, NULL, fault, NULL);
    pthread_join(thread, NULL);
    puts("not reached");
    return 0;
}
