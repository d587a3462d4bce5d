/* Adversarial: a file shrinks under its mappings. With argument "self" the guest truncates it
 * itself; with "external" it prints "ready", waits for a byte on stdin while the test truncates
 * the file from the host, behind Rivet's back. Either way every touch of a page past the new end
 * of the file (shared or private, read or write, by an instruction or inside a syscall) must be
 * the guest's SIGBUS or EFAULT, as on Linux, never the host's crash; mremap of the mapping
 * moves it with its file. Then the file grows back and the pages are the file's again.
 * rivet-fixture: args self
 * The expected output is what this same program prints compiled for x86-64 Linux (gcc -O2).
 * rivet-fixture: no-qemu */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096

static sigjmp_buf back;
static volatile char *base;
static volatile long last_offset;
static volatile int last_code;

static void on_bus(int sig, siginfo_t *info, void *context) {
    (void)sig, (void)context;
    last_code = info->si_code;
    last_offset = (char *)info->si_addr - (char *)base;
    siglongjmp(back, 1);
}

/* Reads (or writes) one byte at `p`, reporting a SIGBUS by its si_code and offset from `region`. */
static void touch(const char *what, volatile char *region, long offset, int write) {
    base = region;
    if (sigsetjmp(back, 1) == 0) {
        char value = 0;
        if (write) region[offset] = 'w'; else value = region[offset];
        printf("%-34s ok (%c)\n", what, value ? value : '-');
    } else {
        printf("%-34s SIGBUS code %d at +%ld\n", what, last_code, last_offset);
    }
}

int main(int argc, char **argv) {
    int external = argc > 1 && strcmp(argv[1], "external") == 0;
    struct sigaction action = {0};
    action.sa_sigaction = on_bus;
    action.sa_flags = SA_SIGINFO;
    sigaction(SIGBUS, &action, NULL);

    int fd = open("shrinking.bin", O_RDWR | O_CREAT | O_TRUNC, 0644);
    char page[PAGE];
    for (int k = 0; k < 3; k++) {
        memset(page, 'A' + k, sizeof page);
        if (write(fd, page, sizeof page) != sizeof page) return 1;
    }
    volatile char *shared = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    volatile char *private = mmap(NULL, 3 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    if (shared == MAP_FAILED || private == MAP_FAILED) return 2;
    touch("shared page 2 before", shared, 2 * PAGE, 0);
    touch("private page 1 before", private, PAGE + 5, 0);

    if (external) {
        printf("ready\n");
        fflush(stdout);
        char go;
        if (read(0, &go, 1) != 1) return 3;
    } else if (ftruncate(fd, PAGE) != 0) {
        return 4;
    }
    touch("shared page 0 after", shared, 10, 0);
    touch("shared page 1 after", shared, PAGE + 10, 0);
    touch("shared page 2 write after", shared, 2 * PAGE + 8, 1);
    touch("private page 1 after", private, PAGE + 5, 0);
    /* Inside syscalls: Linux fails them with EFAULT. */
    errno = 0;
    long n = write(1, (char *)shared + PAGE, 16);
    printf("%-34s %ld %s\n", "write from page 1", n, n < 0 ? strerrorname_np(errno) : "");
    errno = 0;
    n = access((char *)shared + PAGE, F_OK);
    printf("%-34s %ld %s\n", "path in page 1", n, n < 0 ? strerrorname_np(errno) : "");
    fflush(stdout);
    /* The mapping moves with its file: page 0 is still the file's, page 1 still past its end. */
    volatile char *moved = mremap((void *)shared, 3 * PAGE, 4 * PAGE, MREMAP_MAYMOVE);
    if (moved == MAP_FAILED) return 5;
    touch("moved page 0", moved, 20, 0);
    touch("moved page 1", moved, PAGE + 20, 0);
    touch("moved page 3 (grown)", moved, 3 * PAGE, 0);
    /* The file grows back: its pages are there again (zeros past the old end). */
    if (ftruncate(fd, 4 * PAGE) != 0) return 6;
    if (!external) {
        touch("moved page 1 regrown", moved, PAGE + 20, 0);
        touch("moved page 3 regrown write", moved, 3 * PAGE, 1);
        touch("moved page 3 regrown", moved, 3 * PAGE, 0);
    }
    return 0;
}
