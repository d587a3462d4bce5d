#define _GNU_SOURCE
// Every warning is an error (set here rather than with unsafe flags in Package.swift).
#pragma GCC diagnostic error "-Wall"
#pragma GCC diagnostic error "-Wextra"
#include "CRivetHost.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <time.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

int rivet_code_region_create(size_t size, int separate_views, rivet_code_region *out) {
    memset(out, 0, sizeof *out);
    out->fd = -1;
    if (!separate_views) {
        void *code = mmap(NULL, size, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (code != MAP_FAILED) {
            out->rw = code;
            out->rx = code;
            out->size = size;
            return 0;
        }
        // A host that refuses memory both writable and executable (SELinux's execmem, PaX):
        // two views of a memfd, as with separate_views.
        if (errno != EACCES && errno != EPERM) return errno;
    }
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
    if (region->rx && region->rx != region->rw) munmap(region->rx, region->size);
    if (region->fd >= 0) close(region->fd);
    memset(region, 0, sizeof *region);
    region->fd = -1;
}

void rivet_store_code64(void *address, uint64_t value) {
    __atomic_store_n((uint64_t *)address, value, __ATOMIC_RELEASE);
}

int rivet_mremap_fixed(void *old_address, size_t old_size, size_t new_size, void *new_address, int keep_source) {
    int flags = MREMAP_MAYMOVE | MREMAP_FIXED;
    // Linux 5.7 (uapi linux/mman.h); glibc 2.36's headers lack it.
    if (keep_source) flags |= 4;  // MREMAP_DONTUNMAP
    void *result = mremap(old_address, old_size, new_size, flags, new_address);
    return result == MAP_FAILED ? errno : 0;
}

int rivet_memfd(const char *name) {
    int fd = memfd_create(name, MFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

long rivet_random_bytes(void *buffer, size_t count) {
    ssize_t n = getrandom(buffer, count, 0);
    return n < 0 ? -errno : (long)n;
}

int rivet_memfd_flags(const char *name, unsigned flags) {
    int fd = memfd_create(name, flags);
    return fd < 0 ? -errno : fd;
}

void rivet_ignore_host_sigpipe(void) {
    struct sigaction current;
    if (sigaction(SIGPIPE, NULL, &current) != 0) return;
    if (!(current.sa_flags & SA_SIGINFO) && current.sa_handler == SIG_DFL) signal(SIGPIPE, SIG_IGN);
}

int rivet_host_has_avx512(void) {
    // AVX-512F with the OS saving the opmask and ZMM state as well as SSE and AVX (XCR0 bits
    // 1, 2 and 5-7), unless RIVET_NO_AVX512 is set (to test the code without it).
    if (getenv("RIVET_NO_AVX512")) return 0;
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f")) return 0;
    unsigned low, high;
    __asm__ volatile("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
    (void)high;
    return (low & 0xe6) == 0xe6;
}

int rivet_host_has_fma(void) {
    // FMA3 with the OS saving the YMM state (the compiler's check covers both), unless
    // RIVET_NO_FMA is set (to test the code without it).
    if (getenv("RIVET_NO_FMA")) return 0;
    __builtin_cpu_init();
    return __builtin_cpu_supports("fma") ? 1 : 0;
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

// Registered guest address spaces, published and retired like the code ranges.
#define MAX_SPACES 4096
typedef struct {
    _Atomic uintptr_t base;
    _Atomic uintptr_t end;
    uint8_t *_Atomic permissions;
} guest_space;

static guest_space spaces[MAX_SPACES];

int rivet_register_guest_space(uintptr_t base, uintptr_t size, uint8_t *permissions) {
    lock();
    for (int i = 0; i < MAX_SPACES; i++) {
        if (atomic_load(&spaces[i].end) == 0 && atomic_load(&spaces[i].base) == 0) {
            atomic_store(&spaces[i].base, base);
            atomic_store(&spaces[i].permissions, permissions);
            atomic_store(&spaces[i].end, base + size);
            unlock();
            return 0;
        }
    }
    unlock();
    return -1;
}

void rivet_unregister_guest_space(uintptr_t base) {
    lock();
    for (int i = 0; i < MAX_SPACES; i++) {
        if (atomic_load(&spaces[i].base) == base && atomic_load(&spaces[i].end) != 0) {
            atomic_store(&spaces[i].end, 0);
            atomic_store(&spaces[i].permissions, NULL);
            atomic_store(&spaces[i].base, 0);
        }
    }
    unlock();
}

/// The space holding `address`, or NULL.
static guest_space *space_containing(uintptr_t address) {
    for (int i = 0; i < MAX_SPACES; i++) {
        uintptr_t end = atomic_load_explicit(&spaces[i].end, memory_order_acquire);
        if (end == 0) continue;
        uintptr_t base = atomic_load_explicit(&spaces[i].base, memory_order_relaxed);
        if (address >= base && address < end) return &spaces[i];
    }
    return NULL;
}

// Per thread: the hart whose accesses the thread makes, and the pages host faults changed.
#define MAX_FAULT_PAGES 64
static __thread uint64_t *thread_hart;
static __thread uint64_t *thread_dispatch;
static __thread size_t thread_dispatch_entries;
static __thread uintptr_t fault_pages[MAX_FAULT_PAGES];
static __thread int fault_page_count;

void rivet_set_thread_hart(uint64_t *slots, uint64_t *dispatch, size_t entries) {
    thread_hart = slots;
    thread_dispatch = dispatch;
    thread_dispatch_entries = entries;
    fault_page_count = 0;
}

int rivet_take_host_fault_pages(uintptr_t *pages, int capacity) {
    int count = fault_page_count;
    fault_page_count = 0;
    if (count > MAX_FAULT_PAGES || count > capacity) return -1;
    for (int i = 0; i < count; i++) pages[i] = fault_pages[i];
    return count;
}

/// Host code (the interpreter, a syscall's copy) faulted on guest memory: make the access
/// complete and record the fault for the hart. Async-signal-safe: only mmap, mprotect and
/// plain stores.
static int survive_host_fault(int sig, uintptr_t address, int write) {
    guest_space *space = space_containing(address);
    uint64_t *hart = thread_hart;
    if (!space || !hart) return 0;
    uintptr_t base = atomic_load_explicit(&space->base, memory_order_relaxed);
    uint8_t *permissions = atomic_load_explicit(&space->permissions, memory_order_relaxed);
    uintptr_t page = address & ~(uintptr_t)4095;
    if (sig == SIGBUS) {
        // The file under this page shrank: the guest sees a page past the end of its file.
        if (permissions) permissions[(page - base) >> 12] = RIVET_PAGE_PAST_FILE_END;
        void *fresh = mmap((void *)page, 4096, PROT_READ | PROT_WRITE,
                           MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (fresh == MAP_FAILED) return 0;
    } else if (mprotect((void *)page, 4096, PROT_READ | PROT_WRITE) != 0) {
        return 0;
    }
    if (!(__atomic_load_n(&hart[RIVET_SLOT_ATTENTION], __ATOMIC_SEQ_CST) & RIVET_ATTENTION_HOST_FAULT)) {
        hart[RIVET_SLOT_HOST_FAULT_SIGNAL] = (uint64_t)sig | (write ? RIVET_HOST_FAULT_WRITE : 0);
        hart[RIVET_SLOT_HOST_FAULT_ADDRESS] = address - base;
        __atomic_fetch_or(&hart[RIVET_SLOT_ATTENTION], RIVET_ATTENTION_HOST_FAULT, __ATOMIC_SEQ_CST);
    }
    // The interpreter looks at the attention bits when a lookup misses its block table.
    for (size_t i = 0; i < thread_dispatch_entries; i++) thread_dispatch[2 * i] = 1;
    if (fault_page_count < MAX_FAULT_PAGES) fault_pages[fault_page_count] = page;
    // Past the list's end the count still grows: the hart learns it overflowed.
    fault_page_count++;
    return 1;
}

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
        if (sig == SIGBUS) {
            // The file under the page shrank: the interpreter, re-executing the access, must
            // see a page past the end of its file.
            guest_space *space = space_containing(address);
            uint8_t *permissions = space ? atomic_load_explicit(&space->permissions, memory_order_relaxed) : NULL;
            if (permissions) permissions[(address - base) >> 12] = RIVET_PAGE_PAST_FILE_END;
        }
        state[RIVET_SLOT_FAULT_SIGNAL] = (uint64_t)sig;
        state[RIVET_SLOT_FAULT_HOST_PC] = rip;
        state[RIVET_SLOT_FAULT_HOST_ADDRESS] = address;
        static const int order[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
                                      REG_R8,  REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15};
        for (int r = 0; r < 16; r++) state[RIVET_SLOT_FAULT_REGISTERS + r] = (uint64_t)gregs[order[r]];
        // The SSE flags raised since the code cleared them (tier 2 accrues them into fflags);
        // the kernel restores MXCSR from the frame, but host code may raise more before the
        // engine reads them.
        state[RIVET_SLOT_MXCSR] = uc->uc_mcontext.fpregs ? uc->uc_mcontext.fpregs->mxcsr : 0;
        // Tier 2's float values live in XMM registers: their low 64 bits, from the frame's
        // FXSAVE area.
        for (int r = 0; r < 16; r++) {
            uint64_t bits = 0;
            if (uc->uc_mcontext.fpregs) memcpy(&bits, uc->uc_mcontext.fpregs->_xmm[r].element, 8);
            state[RIVET_SLOT_FAULT_XMM_REGISTERS + r] = bits;
        }
        gregs[REG_RIP] = (greg_t)exit;
        atomic_fetch_add_explicit(&handled_faults, 1, memory_order_relaxed);
        return;
    }
    // x86-64 page-fault error code: bit 1 is set for a write.
    int write = (gregs[REG_ERR] & 2) != 0;
    if (survive_host_fault(sig, address, write)) {
        atomic_fetch_add_explicit(&handled_faults, 1, memory_order_relaxed);
        return;
    }
    // Not ours: let the previous handler (or the default action) see the fault when the
    // instruction runs again.
    sigaction(sig, sig == SIGBUS ? &previous_bus : &previous_segv, NULL);
}

// MARK: Watchdogs

struct rivet_watchdog {
    uint64_t *slots;
    pthread_t target;
    pthread_t thread;
    sem_t wake;
    _Atomic int stopping;
    uint64_t deadline;
    /// The target thread's signal mask before SIGURG was unblocked in it.
    sigset_t saved_mask;
    /// Posted by the thread when it has stopped watching (it touches the slots no more).
    sem_t stopped;
    /// Posted to give the idle thread its next run to watch (or, with `exiting`, to end it).
    sem_t resume;
    int exiting;
    /// The next idle watchdog in the pool.
    struct rivet_watchdog *next_idle;
};

/// Idle watchdogs, their threads waiting for a run to watch: a run starts one in a few
/// microseconds instead of creating a thread (a sandbox that serves one request drives two
/// runs). At most `WATCHDOG_POOL_LIMIT` wait; the rest end.
static pthread_mutex_t watchdog_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static rivet_watchdog *watchdog_pool;
static int watchdog_pool_count;
enum { WATCHDOG_POOL_LIMIT = 64 };
static pthread_once_t watchdog_pool_once = PTHREAD_ONCE_INIT;

/// In a forked child the pool's threads did not come along: forget them (their memory stays).
static void watchdog_pool_forget_in_child(void) {
    pthread_mutex_init(&watchdog_pool_lock, NULL);
    watchdog_pool = NULL;
    watchdog_pool_count = 0;
}

static void watchdog_pool_setup(void) { pthread_atfork(NULL, NULL, watchdog_pool_forget_in_child); }

/// The watchdog host signals are forwarded to, if any.
static rivet_watchdog *_Atomic forwarding_target;

static uint64_t monotonic_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

// MARK: Blocking host calls that an interruption cannot miss

// A guest thread told to look at its signals or to end (its attention bits set, then SIGURG)
// must not sleep on in a host call it was about to start when the signal came: SIGURG
// arriving between the caller's last look at its state and the `syscall` instruction would be
// lost, and the call would wait for ever. Between `rivet_blocking_begin` and
// `rivet_blocking_end`, the host calls below go through `safe_syscall`, which tests the
// attention bits just before `syscall`; SIGURG's handler, finding the thread between that test
// and the `syscall` instruction, moves it to the -EINTR return instead. (The technique is the
// one qemu-user describes for its safe_syscall in linux-user/safe-syscall.S.)

#if defined(__x86_64__)
extern long rivet_safe_syscall(volatile uint64_t *attention, uint64_t bits, long number, long a, long b, long c,
                               long d, long e, long f);
extern const char rivet_safe_syscall_check[], rivet_safe_syscall_done[], rivet_safe_syscall_interrupted[];

__asm__(
    ".text\n"
    ".globl rivet_safe_syscall\n"
    ".hidden rivet_safe_syscall\n"
    ".type rivet_safe_syscall, @function\n"
    "rivet_safe_syscall:\n"
    "    .cfi_startproc\n"
    // attention in rdi, bits in rsi, number in rdx, a b c in rcx r8 r9, d e f on the stack.
    "    mov %rdi, %r11\n"
    "    mov %rsi, %r10\n"
    "    mov %rdx, %rax\n"
    "    mov %rcx, %rdi\n"
    "    mov %r8, %rsi\n"
    "    mov %r9, %rdx\n"
    "    mov %r10, %rcx\n"
    "    mov 8(%rsp), %r10\n"
    "    mov 16(%rsp), %r8\n"
    "    mov 24(%rsp), %r9\n"
    // From here to the `syscall` instruction, SIGURG returns -EINTR instead.
    ".globl rivet_safe_syscall_check\n"
    ".hidden rivet_safe_syscall_check\n"
    "rivet_safe_syscall_check:\n"
    "    test %rcx, (%r11)\n"
    "    jnz rivet_safe_syscall_interrupted\n"
    "    syscall\n"
    ".globl rivet_safe_syscall_done\n"
    ".hidden rivet_safe_syscall_done\n"
    "rivet_safe_syscall_done:\n"
    "    ret\n"
    ".globl rivet_safe_syscall_interrupted\n"
    ".hidden rivet_safe_syscall_interrupted\n"
    "rivet_safe_syscall_interrupted:\n"
    "    mov $-4, %rax\n"
    "    ret\n"
    "    .cfi_endproc\n"
    ".size rivet_safe_syscall, .-rivet_safe_syscall\n");
#endif

/// The attention word the calling thread's blocking host calls watch (NULL: none).
static __thread volatile uint64_t *blocking_attention;

void rivet_blocking_begin(uint64_t *slots) { blocking_attention = &slots[RIVET_SLOT_ATTENTION]; }

void rivet_blocking_end(void) { blocking_attention = NULL; }

/// A host syscall, through `rivet_safe_syscall` inside a blocking section: -errno on failure.
static long host_call(long number, long a, long b, long c, long d, long e, long f) {
#if defined(__x86_64__)
    volatile uint64_t *attention = blocking_attention;
    if (attention) {
        return rivet_safe_syscall(attention, RIVET_ATTENTION_INTERRUPT | RIVET_ATTENTION_STOPS_BLOCKING, number, a, b,
                                  c, d, e, f);
    }
#endif
    long result = syscall(number, a, b, c, d, e, f);
    return result == -1 ? -errno : result;
}

/// SIGURG: only to end a blocking host syscall of the hart's thread with EINTR, also one about
/// to start.
static void interrupt_handler(int sig, siginfo_t *info, void *context) {
    (void)sig, (void)info;
#if defined(__x86_64__)
    greg_t *gregs = ((ucontext_t *)context)->uc_mcontext.gregs;
    greg_t pc = gregs[REG_RIP];
    if (pc >= (greg_t)rivet_safe_syscall_check && pc < (greg_t)rivet_safe_syscall_done) {
        gregs[REG_RIP] = (greg_t)rivet_safe_syscall_interrupted;
    }
#else
    (void)context;
#endif
}

static void watch_run(rivet_watchdog *w);

static void *watch(void *raw) {
    rivet_watchdog *w = raw;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    for (;;) {
        watch_run(w);
        sem_post(&w->stopped);
        // Idle in the pool until the next run (or the end).
        while (sem_wait(&w->resume) != 0 && errno == EINTR) {
        }
        if (w->exiting) return NULL;
    }
}

/// Watches one run, until `stopping`.
static void watch_run(rivet_watchdog *w) {
    for (;;) {
        if (atomic_load(&w->stopping)) return;
        uint64_t now = monotonic_now();
        uint64_t deadline = __atomic_load_n(&w->deadline, __ATOMIC_SEQ_CST);
        int overdue = deadline != 0 && now >= deadline;
        int posted = __atomic_load_n(&w->slots[RIVET_SLOT_POSTED_SIGNALS], __ATOMIC_SEQ_CST) != 0;
        // The process is ending (another guest thread ended it): the hart's thread must stop
        // even if it missed the interruption, being about to block.
        // Likewise when the embedder paused it.
        int ending = (__atomic_load_n(&w->slots[RIVET_SLOT_ATTENTION], __ATOMIC_SEQ_CST)
                         & (RIVET_ATTENTION_ENDING | RIVET_ATTENTION_PAUSE)) != 0;
        uint64_t until = 0;
        if (overdue || posted || ending) {
            uint64_t bits = RIVET_ATTENTION_INTERRUPT | (overdue ? RIVET_ATTENTION_DEADLINE : 0);
            __atomic_fetch_or(&w->slots[RIVET_SLOT_ATTENTION], bits, __ATOMIC_SEQ_CST);
            pthread_kill(w->target, SIGURG);
            until = now + 10000000ull;  // again in 10 ms, until the hart takes notice
        } else if (deadline != 0) {
            until = deadline;
        }
        if (until == 0) {
            while (sem_wait(&w->wake) != 0 && errno == EINTR) {
            }
        } else {
            struct timespec ts = {.tv_sec = (time_t)(until / 1000000000ull), .tv_nsec = (long)(until % 1000000000ull)};
            while (sem_clockwait(&w->wake, CLOCK_MONOTONIC, &ts) != 0 && errno == EINTR) {
            }
        }
    }
}

rivet_watchdog *rivet_watchdog_start(uint64_t *slots, uint64_t deadline) {
    rivet_install_fault_handler();
    pthread_once(&watchdog_pool_once, watchdog_pool_setup);
    pthread_mutex_lock(&watchdog_pool_lock);
    rivet_watchdog *w = watchdog_pool;
    if (w) {
        watchdog_pool = w->next_idle;
        watchdog_pool_count -= 1;
    }
    pthread_mutex_unlock(&watchdog_pool_lock);
    int reused = w != NULL;
    if (!reused) {
        w = calloc(1, sizeof *w);
        if (!w) return NULL;
        sem_init(&w->wake, 0, 0);
        sem_init(&w->stopped, 0, 0);
        sem_init(&w->resume, 0, 0);
    } else {
        // Wake-ups meant for its last run.
        while (sem_trywait(&w->wake) == 0) {
        }
    }
    w->slots = slots;
    w->target = pthread_self();
    w->deadline = deadline;
    atomic_store(&w->stopping, 0);
    // The hart's thread may block SIGURG (a dispatch worker blocks all asynchronous signals):
    // it must take it for as long as it is watched.
    sigset_t urgent;
    sigemptyset(&urgent);
    sigaddset(&urgent, SIGURG);
    pthread_sigmask(SIG_UNBLOCK, &urgent, &w->saved_mask);
    if (reused) {
        sem_post(&w->resume);
    } else if (pthread_create(&w->thread, NULL, watch, w) != 0) {
        pthread_sigmask(SIG_SETMASK, &w->saved_mask, NULL);
        sem_destroy(&w->wake);
        sem_destroy(&w->stopped);
        sem_destroy(&w->resume);
        free(w);
        return NULL;
    }
    return w;
}

void rivet_watchdog_stop(rivet_watchdog *w) {
    if (!w) return;
    rivet_watchdog *expected = w;
    atomic_compare_exchange_strong(&forwarding_target, &expected, NULL);
    atomic_store(&w->stopping, 1);
    sem_post(&w->wake);
    // Once it says so, the thread no longer touches the run's slots.
    while (sem_wait(&w->stopped) != 0 && errno == EINTR) {
    }
    pthread_sigmask(SIG_SETMASK, &w->saved_mask, NULL);
    pthread_mutex_lock(&watchdog_pool_lock);
    int kept = watchdog_pool_count < WATCHDOG_POOL_LIMIT;
    if (kept) {
        w->slots = NULL;
        w->next_idle = watchdog_pool;
        watchdog_pool = w;
        watchdog_pool_count += 1;
    }
    pthread_mutex_unlock(&watchdog_pool_lock);
    if (kept) return;
    w->exiting = 1;
    sem_post(&w->resume);
    pthread_join(w->thread, NULL);
    sem_destroy(&w->wake);
    sem_destroy(&w->stopped);
    sem_destroy(&w->resume);
    free(w);
}

void rivet_watchdog_post(rivet_watchdog *w, int signal) {
    if (!w || signal < 1 || signal > 64) return;
    __atomic_fetch_or(&w->slots[RIVET_SLOT_POSTED_SIGNALS], 1ull << (signal - 1), __ATOMIC_SEQ_CST);
    sem_post(&w->wake);
}

void rivet_watchdog_wake(rivet_watchdog *w) {
    if (w) sem_post(&w->wake);
}

void rivet_watchdog_set_deadline(rivet_watchdog *w, uint64_t deadline) {
    if (!w) return;
    __atomic_store_n(&w->deadline, deadline, __ATOMIC_SEQ_CST);
    sem_post(&w->wake);
}

static void forward_handler(int sig, siginfo_t *info, void *context) {
    (void)info, (void)context;
    int saved = errno;
    rivet_watchdog_post(atomic_load(&forwarding_target), sig);
    errno = saved;
}

void rivet_forward_host_signals(rivet_watchdog *w, uint64_t mask) {
    atomic_store(&forwarding_target, w);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = forward_handler;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&action.sa_mask);
    for (int sig = 1; sig <= 64; sig++) {
        if (mask & (1ull << (sig - 1))) sigaction(sig, &action, NULL);
    }
}

// MARK: Time sampling

/// A hart the sampler watches, and the time it counted for it so far.
typedef struct {
    const uint64_t *slots;
    /// When its time was last counted (CLOCK_MONOTONIC nanoseconds).
    uint64_t since;
    uint64_t totals[RIVET_ACTIVITY_COUNT];
} sampled_hart;

struct rivet_sampler {
    pthread_t thread;
    sem_t wake;
    _Atomic int stopping;
    uint64_t shortest, longest;
    /// Guards everything below (the sampler thread, and the harts' threads adding and removing).
    pthread_mutex_t mutex;
    sampled_hart *harts;
    size_t count, capacity;
    /// The first hart registered, and its totals once it is removed.
    const uint64_t *first;
    uint64_t first_totals[RIVET_ACTIVITY_COUNT];
    /// The totals of the harts removed (the first's included, once removed).
    uint64_t ended[RIVET_ACTIVITY_COUNT];
    uint64_t harts_seen, samples;
};

/// Adds the time since `h` was last counted to what its thread is doing now.
static void count_time(sampled_hart *h, uint64_t now) {
    uint64_t activity = rivet_activity(h->slots);
    if (activity >= RIVET_ACTIVITY_COUNT) activity = RIVET_ACTIVITY_RUN_LOOP;
    if (now > h->since) h->totals[activity] += now - h->since;
    h->since = now;
}

static void *sample(void *raw) {
    rivet_sampler *s = raw;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    uint64_t started = monotonic_now(), next = started;
    for (;;) {
        // A fiftieth of the time so far, within the bounds: some fifty looks for every tenfold
        // of the run's length, and never more than one per `longest` past it (a wake-up costs
        // some 25 µs of CPU on a virtual machine's idle core).
        uint64_t period = (next - started) / 50;
        if (period < s->shortest) period = s->shortest;
        if (period > s->longest) period = s->longest;
        next += period;
        struct timespec ts = {.tv_sec = (time_t)(next / 1000000000ull), .tv_nsec = (long)(next % 1000000000ull)};
        while (sem_clockwait(&s->wake, CLOCK_MONOTONIC, &ts) != 0 && errno == EINTR) {
        }
        if (atomic_load(&s->stopping)) return NULL;
        uint64_t now = monotonic_now();
        // Woken late (a busy host): go on from now rather than catch up in a burst. The time
        // is not lost: each look counts all of it since the previous one.
        if (now > next + period) next = now;
        pthread_mutex_lock(&s->mutex);
        for (size_t k = 0; k < s->count; k++) count_time(&s->harts[k], now);
        s->samples++;
        pthread_mutex_unlock(&s->mutex);
    }
}

rivet_sampler *rivet_sampler_start(uint64_t shortest, uint64_t longest) {
    rivet_sampler *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->shortest = shortest > 0 ? shortest : 1000;
    s->longest = longest > s->shortest ? longest : s->shortest;
    pthread_mutex_init(&s->mutex, NULL);
    sem_init(&s->wake, 0, 0);
    if (pthread_create(&s->thread, NULL, sample, s) != 0) {
        sem_destroy(&s->wake);
        pthread_mutex_destroy(&s->mutex);
        free(s);
        return NULL;
    }
    return s;
}

int rivet_sampler_add(rivet_sampler *s, const uint64_t *slots) {
    if (!s) return 0;
    pthread_mutex_lock(&s->mutex);
    if (s->count == s->capacity) {
        size_t capacity = s->capacity ? s->capacity * 2 : 16;
        sampled_hart *grown = realloc(s->harts, capacity * sizeof *grown);
        if (!grown) {
            pthread_mutex_unlock(&s->mutex);
            return ENOMEM;
        }
        s->harts = grown;
        s->capacity = capacity;
    }
    sampled_hart *h = &s->harts[s->count++];
    memset(h, 0, sizeof *h);
    h->slots = slots;
    h->since = monotonic_now();
    if (!s->first) s->first = slots;
    s->harts_seen++;
    pthread_mutex_unlock(&s->mutex);
    return 0;
}

void rivet_sampler_remove(rivet_sampler *s, const uint64_t *slots) {
    if (!s) return;
    pthread_mutex_lock(&s->mutex);
    for (size_t k = 0; k < s->count; k++) {
        sampled_hart *h = &s->harts[k];
        if (h->slots != slots) continue;
        count_time(h, monotonic_now());
        for (int a = 0; a < RIVET_ACTIVITY_COUNT; a++) s->ended[a] += h->totals[a];
        if (slots == s->first) memcpy(s->first_totals, h->totals, sizeof h->totals);
        s->harts[k] = s->harts[--s->count];
        break;
    }
    pthread_mutex_unlock(&s->mutex);
}

void rivet_sampler_stop(rivet_sampler *s, rivet_sampler_report *report) {
    memset(report, 0, sizeof *report);
    if (!s) return;
    uint64_t now = monotonic_now();
    atomic_store(&s->stopping, 1);
    sem_post(&s->wake);
    pthread_join(s->thread, NULL);
    memcpy(report->first, s->first_totals, sizeof report->first);
    memcpy(report->all, s->ended, sizeof report->all);
    for (size_t k = 0; k < s->count; k++) {
        sampled_hart *h = &s->harts[k];
        count_time(h, now);
        for (int a = 0; a < RIVET_ACTIVITY_COUNT; a++) report->all[a] += h->totals[a];
        if (h->slots == s->first) memcpy(report->first, h->totals, sizeof report->first);
    }
    report->harts = s->harts_seen;
    report->samples = s->samples;
    free(s->harts);
    sem_destroy(&s->wake);
    pthread_mutex_destroy(&s->mutex);
    free(s);
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
    // Without SA_RESTART: a watchdog's SIGURG ends the hart's blocking host syscall.
    struct sigaction interrupt;
    memset(&interrupt, 0, sizeof interrupt);
    interrupt.sa_sigaction = interrupt_handler;
    interrupt.sa_flags = SA_SIGINFO;
    sigemptyset(&interrupt.sa_mask);
    sigaction(SIGURG, &interrupt, NULL);
}

// MARK: Threads

long rivet_futex(uint32_t *address, int op, uint32_t value, uintptr_t timeout, uint32_t *address2, uint32_t value3) {
    return host_call(SYS_futex, (long)address, op, value, (long)timeout, (long)address2, value3);
}

int32_t rivet_gettid(void) { return (int32_t)syscall(SYS_gettid); }

long rivet_syscall(long number, long a, long b, long c, long d, long e, long f) {
    long result = host_call(number, a, b, c, d, e, f);
    if (result < 0 && result > -4096) {
        errno = (int)-result;
        return -1;
    }
    return result;
}

unsigned long rivet_auxiliary_value(unsigned long type) { return getauxval(type); }

long rivet_waitid(int which, int id, void *info, int options, void *usage) {
    return host_call(SYS_waitid, which, id, (long)info, options, (long)usage, 0);
}

int rivet_code_region_copy(const rivet_code_region *region, const size_t *offsets, const size_t *lengths, int count) {
    int fd = memfd_create("rivet-jit", MFD_CLOEXEC);
    if (fd < 0) return -errno;
    if (ftruncate(fd, (off_t)region->size) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    for (int k = 0; k < count; k++) {
        size_t done = 0;
        while (done < lengths[k]) {
            ssize_t n = pwrite(fd, region->rw + offsets[k] + done, lengths[k] - done, (off_t)(offsets[k] + done));
            if (n <= 0) {
                int e = n < 0 ? errno : EIO;
                close(fd);
                return -e;
            }
            done += (size_t)n;
        }
    }
    return fd;
}

int rivet_code_region_adopt(rivet_code_region *region, int fd) {
    if (mmap(region->rw, region->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED) {
        return errno;
    }
    if (mmap(region->rx, region->size, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED) {
        // Both views must show one memfd: the writable one goes back to the old.
        int e = errno;
        if (mmap(region->rw, region->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, region->fd, 0) == MAP_FAILED) {
            static const char message[] = "rivet: cannot map the code cache back after a failed copy\n";
            (void)!write(2, message, sizeof message - 1);
            abort();
        }
        return e;
    }
    close(region->fd);
    region->fd = fd;
    return 0;
}

// The header spells this mask as a literal, so that Swift imports it: it must stay the union.
_Static_assert(RIVET_ATTENTION_STOPS_BLOCKING == (RIVET_ATTENTION_DEADLINE | RIVET_ATTENTION_ENDING | RIVET_ATTENTION_PAUSE),
               "RIVET_ATTENTION_STOPS_BLOCKING must be DEADLINE | ENDING | PAUSE");

// Descriptor owners, by descriptor; `descriptor_limit` is one past the highest ever claimed.
static _Atomic uint32_t descriptor_owners[RIVET_TRACKED_DESCRIPTORS];
static _Atomic int descriptor_limit;
static _Atomic uint32_t last_descriptor_owner;

uint32_t rivet_descriptor_owner_new(void) {
    uint32_t owner;
    do { owner = atomic_fetch_add(&last_descriptor_owner, 1) + 1; } while (owner == 0);
    return owner;
}

void rivet_descriptor_claim(int fd, uint32_t owner) {
    if (fd < 0 || fd >= RIVET_TRACKED_DESCRIPTORS) return;
    atomic_store(&descriptor_owners[fd], owner);
    int limit = atomic_load(&descriptor_limit);
    while (limit <= fd && !atomic_compare_exchange_weak(&descriptor_limit, &limit, fd + 1)) {}
}

void rivet_descriptor_release(int fd) {
    if (fd < 0 || fd >= RIVET_TRACKED_DESCRIPTORS) return;
    atomic_store(&descriptor_owners[fd], 0);
}

uint32_t rivet_descriptor_owner(int fd) {
    if (fd < 0 || fd >= RIVET_TRACKED_DESCRIPTORS) return 0;
    return atomic_load(&descriptor_owners[fd]);
}

int rivet_descriptors_close_foreign(uint32_t owner) {
    int closed = 0, limit = atomic_load(&descriptor_limit);
    for (int fd = 0; fd < limit; fd++) {
        uint32_t holder = atomic_load(&descriptor_owners[fd]);
        if (holder == 0 || holder == owner) continue;
        atomic_store(&descriptor_owners[fd], 0);
        if (close(fd) == 0) closed++;
    }
    return closed;
}
