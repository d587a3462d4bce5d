/* Sleeps 300 ms in one nanosleep, then says so: RunControlTests pauses it mid-sleep. */
#include <stdio.h>
#include <time.h>

int main(void) {
    struct timespec t = {0, 300000000};
    if (nanosleep(&t, NULL) != 0) return 1;
    puts("slept");
    return 0;
}
