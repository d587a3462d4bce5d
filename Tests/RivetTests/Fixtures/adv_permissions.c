/* Adversarial: page rights at their edges, where tiers used to disagree. RISC-V Linux makes
 * PROT_WRITE imply read; an execute-only page runs but cannot be read (loads and LR fault);
 * an SC or AMO faults on a page it may not write, holding a reservation or not (as Spike and
 * hardware do; qemu fails such an SC silently, hence no-qemu); a shared mapping of a read-only
 * descriptor cannot be made writable (EACCES), and the store then faults in the guest.
 * rivet-fixture: no-qemu */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096

static sigjmp_buf back;
static volatile int last_signal, last_code;

static void on_fault(int sig, siginfo_t *info, void *context) {
    (void)context;
    last_signal = sig;
    last_code = info->si_code;
    siglongjmp(back, 1);
}

#define TRY(what, expression)                                                                  \
    do {                                                                                       \
        if (sigsetjmp(back, 1) == 0) {                                                         \
            long value = (long)(expression);                                                   \
            printf("%-40s ok %ld\n", what, value);                                             \
        } else {                                                                               \
            printf("%-40s %s code %d\n", what, last_signal == SIGSEGV ? "SIGSEGV" : "SIGBUS", \
                   last_code);                                                                 \
        }                                                                                      \
    } while (0)

static long load(volatile int *p) { return *p; }
static long store(volatile int *p, int v) { *p = v; return v; }
static long lr_w(volatile int *p) {
    int r;
    __asm__ volatile("lr.w %0, (%1)" : "=r"(r) : "r"(p) : "memory");
    return r;
}
static long sc_w(volatile int *p, int v) {
    long r;
    __asm__ volatile("sc.w %0, %2, (%1)" : "=r"(r) : "r"(p), "r"(v) : "memory");
    return r;
}
static long lr_sc(volatile int *p, int v) {
    long r;
    int old;
    __asm__ volatile("lr.w %1, (%2)\n\tsc.w %0, %3, (%2)" : "=&r"(r), "=&r"(old) : "r"(p), "r"(v) : "memory");
    return r;
}
static long amoadd(volatile int *p, int v) {
    int r;
    __asm__ volatile("amoadd.w %0, %2, (%1)" : "=r"(r) : "r"(p), "r"(v) : "memory");
    return r;
}

int main(void) {
    struct sigaction action = {0};
    action.sa_sigaction = on_fault;
    action.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &action, NULL);
    sigaction(SIGBUS, &action, NULL);

    /* Write-only is read-write. */
    volatile int *wo = mmap(NULL, PAGE, PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    TRY("store to write-only", store(wo, 42));
    TRY("load from write-only", load(wo));
    TRY("amoadd on write-only", amoadd(wo, 1));
    TRY("lr/sc on write-only", lr_sc(wo, 7));
    TRY("load after lr/sc", load(wo));

    /* Execute-only runs, but does not read. */
    uint32_t *code = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    code[0] = 0x02a00513; /* li a0, 42 */
    code[1] = 0x00008067; /* ret */
    __builtin___clear_cache((char *)code, (char *)(code + 2));
    printf("%-40s %d\n", "mprotect exec-only", mprotect(code, PAGE, PROT_EXEC));
    __asm__ volatile("fence.i" ::: "memory");
    TRY("call into exec-only", ((long (*)(void))code)());
    TRY("load from exec-only", load((volatile int *)code));
    TRY("lr from exec-only", lr_w((volatile int *)code));

    /* SC and AMO on read-only memory fault, reserved or not. */
    volatile int *ro = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    *ro = 5;
    mprotect((void *)ro, PAGE, PROT_READ);
    TRY("load from read-only", load(ro));
    TRY("lr from read-only", lr_w(ro));
    TRY("sc to read-only", sc_w(ro, 1));
    TRY("lr/sc to read-only", lr_sc(ro, 1));
    TRY("amoadd to read-only", amoadd(ro, 1));
    TRY("store to read-only", store(ro, 1));
    TRY("read-only value unchanged", load(ro));
    TRY("sc to unmapped", sc_w((volatile int *)8, 1));

    /* A shared mapping of a read-only descriptor stays read-only. */
    int fd = open("ro-shared.bin", O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (write(fd, "0123456789abcdef", 16) != 16) return 1;
    close(fd);
    fd = open("ro-shared.bin", O_RDONLY);
    errno = 0;
    void *writable = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("%-40s %s\n", "mmap shared writable of O_RDONLY", writable == MAP_FAILED ? strerrorname_np(errno) : "mapped");
    volatile int *shared = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
    errno = 0;
    int result = mprotect((void *)shared, PAGE, PROT_READ | PROT_WRITE);
    printf("%-40s %d %s\n", "mprotect it writable", result, result ? strerrorname_np(errno) : "");
    TRY("store to it", store(shared, 0x41414141));
    TRY("load from it", load(shared));
    void *private_copy = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    result = mprotect(private_copy, PAGE, PROT_READ | PROT_WRITE);
    printf("%-40s %d\n", "mprotect a private one writable", result);
    TRY("store to the private one", store(private_copy, 0x41414141));
    char bytes[17] = {0};
    pread(fd, bytes, 16, 0);
    printf("%-40s %s\n", "file unchanged", bytes);
    return 0;
}
