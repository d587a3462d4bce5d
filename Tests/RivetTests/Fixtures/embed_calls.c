// The guest side of the embedding API's tests (EmbeddingTests): host functions (ecall numbers
// from 0x10000), functions the host calls (`VirtualMachine.call`), and a request loop where the
// host pauses the guest. Run alone (no host functions: ENOSYS), it says so and checks its own
// functions, so that it is an ordinary fixture too.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOST_LOG 0x10000
#define HOST_ADD 0x10001
#define HOST_WAIT 0x10002

static long host(long number, long a0, long a1) {
    register long a7 __asm__("a7") = number;
    register long r0 __asm__("a0") = a0;
    register long r1 __asm__("a1") = a1;
    __asm__ volatile("ecall" : "+r"(r0) : "r"(a7), "r"(r1) : "memory");
    return r0;
}

#define EXPORT __attribute__((noinline, used))

char scratch[4096];
long counter;

EXPORT long add(long a, long b) { return a + b; }

EXPORT long sum(const long *values, long n) {
    long total = 0;
    for (long i = 0; i < n; i++) total += values[i];
    return total;
}

EXPORT long fib(long n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

EXPORT long bump(long by) { return counter += by; }

EXPORT long eight(long a, long b, long c, long d, long e, long f, long g, long h) {
    return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h;
}

EXPORT long spin(long n) {
    volatile long x = n;
    for (;;) x++;
}

EXPORT long crash(long address) { return *(volatile long *)address; }

EXPORT long finish(long status) { exit((int)status); }

// Calls the host from inside a call: the host may call back in again (`greet` → HOST_LOG).
EXPORT long greet(const char *name) {
    snprintf(scratch, sizeof scratch, "hello, %s", name);
    return host(HOST_LOG, (long)scratch, (long)strlen(scratch));
}

// `n` round trips to the host: its cost per call, measured by the host.
EXPORT long host_calls(long n) {
    long total = 0;
    for (long i = 0; i < n; i++) total += host(HOST_ADD, i, 1);
    return total;
}

int main(void) {
    long said = host(HOST_LOG, (long)"ready", 5);
    if (said == -38) {
        printf("no host functions: add %ld, fib %ld, eight %ld\n", add(2, 3), fib(20), eight(1, 2, 3, 4, 5, 6, 7, 8));
        return 0;
    }
    printf("host read %ld bytes\n", said);
    fflush(stdout);
    // The host pauses the guest here and calls its functions meanwhile; then it resumes it
    // with a value.
    long value = host(HOST_WAIT, 0, 0);
    printf("resumed with %ld, counter %ld\n", value, counter);
    return (int)value;
}
