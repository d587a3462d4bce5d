/* A periodic interval timer still armed when the guest exits (SIGALRM ignored, a 50 us
 * period): the timer thread keeps firing while the machine goes away. EmbeddingTests drops
 * machines running this right after their runs end; the host process must survive them. */
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>

int main(void) {
    signal(SIGALRM, SIG_IGN);
    struct itimerval period = {{0, 50}, {0, 50}};
    setitimer(ITIMER_REAL, &period, NULL);
    volatile unsigned long sum = 0;
    for (unsigned long i = 0; i < 300000; i++) sum += i;
    printf("armed, %lu\n", sum);
    return 0;
}
