#define _GNU_SOURCE
#include "CRivetHost.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

int rivet_code_region_create(size_t size, rivet_code_region *out) {
    memset(out, 0, sizeof *out);
    int fd = memfd_create("rivet-jit", MFD_CLOEXEC);
    if (fd < 0) return errno;
    if (ftruncate(fd, (off_t)size) != 0) {
        int e = errno;
        close(fd);
        return e;
    }
    void *rw = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (rw == MAP_FAILED) {
        int e = errno;
        close(fd);
        return e;
    }
    void *rx = mmap(NULL, size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    if (rx == MAP_FAILED) {
        int e = errno;
        munmap(rw, size);
        close(fd);
        return e;
    }
    out->rw = rw;
    out->rx = rx;
    out->size = size;
    out->fd = fd;
    return 0;
}

void rivet_code_region_destroy(rivet_code_region *region) {
    if (region->rw) munmap(region->rw, region->size);
    if (region->rx) munmap(region->rx, region->size);
    if (region->fd >= 0) close(region->fd);
    memset(region, 0, sizeof *region);
    region->fd = -1;
}

// Registered code ranges. Written under `table_lock` by registering threads, read lock-free by
// the handler: an entry is published by storing `end` last and retired by zeroing `end` first.
#define MAX_RANGES 256
typedef struct {
    _Atomic uintptr_t start;
    _Atomic uintptr_t end;
    _Atomic uintptr_t fault_exit;
} code_range;

static code_range ranges[MAX_RANGES];
static atomic_flag table_lock = ATOMIC_FLAG_INIT;
static struct sigaction previous_segv, previous_bus;
static atomic_int installed;
static _Atomic uint64_t handled_faults;

static void lock(void) {
    while (atomic_flag_test_and_set_explicit(&table_lock, memory_order_acquire)) {
    }
}
static void unlock(void) { atomic_flag_clear_explicit(&table_lock, memory_order_release); }

int rivet_register_code_range(uintptr_t start, uintptr_t end, uintptr_t fault_exit) {
    lock();
    for (int i = 0; i < MAX_RANGES; i++) {
        if (atomic_load(&ranges[i].end) == 0 && atomic_load(&ranges[i].start) == 0) {
            atomic_store(&ranges[i].start, start);
            atomic_store(&ranges[i].fault_exit, fault_exit);
            atomic_store(&ranges[i].end, end);
            unlock();
            return 0;
        }
    }
    unlock();
    return -1;
}

void rivet_unregister_code_range(uintptr_t start) {
    lock();
    for (int i = 0; i < MAX_RANGES; i++) {
        if (atomic_load(&ranges[i].start) == start && atomic_load(&ranges[i].end) != 0) {
            atomic_store(&ranges[i].end, 0);
            atomic_store(&ranges[i].fault_exit, 0);
            atomic_store(&ranges[i].start, 0);
        }
    }
    unlock();
}

uint64_t rivet_handled_fault_count(void) { return atomic_load(&handled_faults); }

static void fault_handler(int sig, siginfo_t *info, void *context) {
    ucontext_t *uc = context;
    greg_t *gregs = uc->uc_mcontext.gregs;
    uintptr_t rip = (uintptr_t)gregs[REG_RIP];
    uintptr_t address = (uintptr_t)info->si_addr;
    for (int i = 0; i < MAX_RANGES; i++) {
        uintptr_t end = atomic_load_explicit(&ranges[i].end, memory_order_acquire);
        uintptr_t start = atomic_load_explicit(&ranges[i].start, memory_order_relaxed);
        if (end == 0 || rip < start || rip >= end) continue;
        uintptr_t exit = atomic_load_explicit(&ranges[i].fault_exit, memory_order_relaxed);
        // In JIT code rbx always holds the hart state.
        uint64_t *state = (uint64_t *)(uintptr_t)gregs[REG_RBX];
        uint64_t base = state[RIVET_SLOT_GUEST_BASE];
        uint64_t limit = state[RIVET_SLOT_GUEST_LIMIT];
        // Only faults on guest memory are guest faults; anything else is a bug in JIT code.
        if (exit == 0 || address < base || address >= limit) break;
        state[RIVET_SLOT_FAULT_SIGNAL] = (uint64_t)sig;
        state[RIVET_SLOT_FAULT_HOST_PC] = rip;
        state[RIVET_SLOT_FAULT_HOST_ADDRESS] = address;
        static const int order[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
                                      REG_R8,  REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15};
        for (int r = 0; r < 16; r++) state[RIVET_SLOT_FAULT_REGISTERS + r] = (uint64_t)gregs[order[r]];
        gregs[REG_RIP] = (greg_t)exit;
        atomic_fetch_add_explicit(&handled_faults, 1, memory_order_relaxed);
        return;
    }
    // Not ours: let the previous handler (or the default action) see the fault when the
    // instruction runs again.
    sigaction(sig, sig == SIGBUS ? &previous_bus : &previous_segv, NULL);
}

void rivet_install_fault_handler(void) {
    // An alternate stack for this thread, so a fault on a full stack still reaches the handler.
    stack_t current;
    if (sigaltstack(NULL, &current) == 0 && (current.ss_flags & SS_DISABLE)) {
        size_t size = 1 << 16;
        void *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (stack != MAP_FAILED) {
            stack_t ss = {.ss_sp = stack, .ss_size = size, .ss_flags = 0};
            sigaltstack(&ss, NULL);
        }
    }
    int expected = 0;
    if (!atomic_compare_exchange_strong(&installed, &expected, 1)) return;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = fault_handler;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    sigaction(SIGSEGV, &action, &previous_segv);
    sigaction(SIGBUS, &action, &previous_bus);
}
