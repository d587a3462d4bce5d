/* Zicond, Zicbom and Zicboz, and the ctzw case qemu 7.2 gets wrong. qemu-riscv64 7.2 has none
 * of these (they came with qemu 8), so the expectations are written by hand from the specs:
 *
 * - czero.eqz rd, rs1, rs2: rd = rs2 == 0 ? 0 : rs1; czero.nez: rd = rs2 != 0 ? 0 : rs1
 *   (Zicond 1.0). gcc 12 does not know them: they are spelled with .insn.
 * - cbo.zero zeroes the 64-byte block holding rs1's address (the block size riscv_hwprobe
 *   reports), and faults as a store; cbo.clean and cbo.flush change nothing a program can see
 *   but fault unless a load or a store may access the block; cbo.inval raises SIGILL in user
 *   mode (Linux leaves senvcfg.CBIE clear). A fault's si_addr is rs1 itself (the CMO
 *   specification writes the effective address to stval), not the block's start.
 * - ctzw counts the trailing zeros of the low word: 32 when that word is 0, whatever the
 *   high word holds (Zbb 1.0).
 *
 * Every result is printed and checked against what the spec gives, computed here in plain C;
 * the expected output is this program's when every check passes (and the zeroed byte ranges
 * are those of the blocks named).
 * rivet-fixture: cflags -march=rv64gc_zbb_zicbom_zicboz
 * rivet-fixture: no-qemu */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef uint64_t u64;

static u64 czero_eqz(u64 a, u64 b) { u64 r; asm volatile(".insn r 0x33, 5, 7, %0, %1, %2" : "=r"(r) : "r"(a), "r"(b)); return r; }
static u64 czero_nez(u64 a, u64 b) { u64 r; asm volatile(".insn r 0x33, 7, 7, %0, %1, %2" : "=r"(r) : "r"(a), "r"(b)); return r; }
static u64 ctzw(u64 a) { u64 r; asm volatile("ctzw %0, %1" : "=r"(r) : "r"(a)); return r; }

static void cbo_zero(void *p) { asm volatile("cbo.zero (%0)" : : "r"(p) : "memory"); }
static void cbo_clean(void *p) { asm volatile("cbo.clean (%0)" : : "r"(p) : "memory"); }
static void cbo_flush(void *p) { asm volatile("cbo.flush (%0)" : : "r"(p) : "memory"); }
static void cbo_inval(void *p) { asm volatile("cbo.inval (%0)" : : "r"(p) : "memory"); }

static int failures;
static void check(const char *what, u64 got, u64 want) {
    printf("%-44s %16lx %s\n", what, got, got == want ? "ok" : "WRONG");
    if (got != want) failures++;
}

static sigjmp_buf jump;
static volatile int last_signal, last_code;
static volatile uintptr_t last_address;
static void handler(int sig, siginfo_t *info, void *context) {
    (void)context;
    last_signal = sig;
    last_code = info->si_code;
    last_address = (uintptr_t)info->si_addr;
    siglongjmp(jump, 1);
}

/* Runs op(p); returns the signal it raised, or 0. */
static int attempt(void (*op)(void *), void *p) {
    last_signal = 0;
    if (sigsetjmp(jump, 1) == 0) op(p);
    return last_signal;
}

static void zicond(void) {
    static const u64 values[] = {0, 1, 0xffffffffffffffffull, 0x8000000000000000ull, 0x100000000ull};
    char what[64];
    for (unsigned i = 0; i < 5; i++)
        for (unsigned j = 0; j < 5; j++) {
            u64 a = values[i] ^ 0x5a5a, b = values[j];
            snprintf(what, sizeof what, "czero.eqz %lx, %lx", a, b);
            check(what, czero_eqz(a, b), b == 0 ? 0 : a);
            snprintf(what, sizeof what, "czero.nez %lx, %lx", a, b);
            check(what, czero_nez(a, b), b != 0 ? 0 : a);
        }
    /* rd = rs1 = rs2: eqz gives the value itself (zero stays zero); nez gives zero. */
    u64 x = 42, r;
    asm volatile(".insn r 0x33, 5, 7, %0, %0, %0" : "=r"(r) : "0"(x));
    check("czero.eqz x, x, x (x = 42)", r, 42);
    asm volatile(".insn r 0x33, 7, 7, %0, %0, %0" : "=r"(r) : "0"(x));
    check("czero.nez x, x, x (x = 42)", r, 0);
}

static void counts(void) {
    check("ctzw 1 << 52", ctzw(1ull << 52), 32);
    check("ctzw 1 << 63", ctzw(1ull << 63), 32);
    check("ctzw 1 << 32", ctzw(1ull << 32), 32);
    check("ctzw 0xffffffff00000000", ctzw(0xffffffff00000000ull), 32);
    check("ctzw 0xffffffff00010000", ctzw(0xffffffff00010000ull), 16);
}

static unsigned char buffer[512] __attribute__((aligned(64)));

/* The bytes of `buffer` that are zero, as ranges. */
static void show_zeros(const char *what) {
    printf("%s: zero bytes", what);
    int start = -1, any = 0;
    for (int k = 0; k <= 512; k++) {
        int zero = k < 512 && buffer[k] == 0;
        if (zero && start < 0) start = k;
        if (!zero && start >= 0) {
            printf(" %d-%d", start, k - 1);
            start = -1;
            any = 1;
        }
    }
    printf("%s\n", any ? "" : " none");
}

static void cache_blocks(void) {
    memset(buffer, 0xa5, sizeof buffer);
    cbo_clean(buffer + 3);
    cbo_flush(buffer + 500);
    show_zeros("after cbo.clean and cbo.flush");
    cbo_zero(buffer + 70);  /* the block 64...127 */
    show_zeros("after cbo.zero buffer+70");
    cbo_zero(buffer + 192);  /* aligned: 192...255 */
    cbo_zero(buffer + 511);  /* the last byte: 448...511 */
    show_zeros("after cbo.zero buffer+192, buffer+511");
    check("byte 63 untouched", buffer[63], 0xa5);
    check("byte 128 untouched", buffer[128], 0xa5);

    /* A hot loop: zero every other block of a fresh buffer, many times. */
    u64 sum = 0;
    for (int round = 0; round < 200; round++) {
        memset(buffer, round & 0xff, sizeof buffer);
        for (int k = 0; k < 512; k += 128) cbo_zero(buffer + k + (round & 63));
        for (int k = 0; k < 512; k++) sum += buffer[k];
    }
    /* Each round keeps the bytes of blocks 1, 3, 5, 7 (256 bytes) at round & 0xff. */
    u64 want = 0;
    for (int round = 0; round < 200; round++) want += 256ull * (round & 0xff);
    check("hot cbo.zero loop, sum of the bytes left", sum, want);
}

static void faults(void) {
    long page = sysconf(_SC_PAGESIZE);
    unsigned char *readonly = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char *none = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char *gone = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(gone, page);

    int sig = attempt(cbo_zero, readonly + 0x45);
    check("cbo.zero read-only: signal", sig, SIGSEGV);
    check("  si_code (SEGV_ACCERR)", last_code, SEGV_ACCERR);
    check("  si_addr is rs1, not the block", last_address - (uintptr_t)readonly, 0x45);
    check("cbo.clean read-only: no signal", attempt(cbo_clean, readonly + 8), 0);
    check("cbo.flush read-only: no signal", attempt(cbo_flush, readonly + 8), 0);

    sig = attempt(cbo_clean, none + 0x81);
    check("cbo.clean PROT_NONE: signal", sig, SIGSEGV);
    check("  si_addr", last_address - (uintptr_t)none, 0x81);
    sig = attempt(cbo_flush, gone + 0x10);
    check("cbo.flush unmapped: signal", sig, SIGSEGV);
    check("  si_code (SEGV_MAPERR)", last_code, SEGV_MAPERR);
    check("  si_addr", last_address - (uintptr_t)gone, 0x10);
    sig = attempt(cbo_zero, gone + 0x3f);
    check("cbo.zero unmapped: signal", sig, SIGSEGV);
    check("  si_code (SEGV_MAPERR)", last_code, SEGV_MAPERR);
    check("  si_addr", last_address - (uintptr_t)gone, 0x3f);

    sig = attempt(cbo_inval, buffer);
    check("cbo.inval: signal", sig, SIGILL);
    check("  si_code (ILL_ILLOPC)", last_code, ILL_ILLOPC);
    check("  buffer untouched", buffer[0], 0);
}

/* cbo.zero over code: the zeroed block is an illegal instruction once fetched again. */
static void code(void) {
    long page = sysconf(_SC_PAGESIZE);
    uint32_t *text = mmap(NULL, page, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    text[0] = 0x02a00513;  /* li a0, 42 */
    text[1] = 0x00008067;  /* ret */
    asm volatile("fence.i" ::: "memory");
    long (*run)(void) = (long (*)(void))text;
    long sum = 0;
    for (int k = 0; k < 100; k++) sum += run();
    check("generated code, 100 calls", sum, 4200);
    cbo_zero(text + 1);
    asm volatile("fence.i" ::: "memory");
    last_signal = 0;
    if (sigsetjmp(jump, 1) == 0) sum = run();
    check("after cbo.zero over it: signal", last_signal, SIGILL);
    check("  at the code", last_address - (uintptr_t)text, 0);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = handler;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &action, NULL);
    sigaction(SIGILL, &action, NULL);
    zicond();
    counts();
    cache_blocks();
    faults();
    code();
    printf("%d wrong\n", failures);
    return failures != 0;
}
