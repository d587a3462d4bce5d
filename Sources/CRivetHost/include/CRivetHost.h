// CRivetHost: what Swift cannot do well (DESIGN.md): executable memory and the fault handler
// that turns a hardware fault in JIT code into a precise guest trap.
#pragma once
#if !defined(__linux__) || !defined(__x86_64__)
#error "Rivet runs on x86-64 Linux hosts only: its JIT emits x86-64 code and its fault handling is Linux's."
#endif
#include <stddef.h>
#include <stdint.h>

/// Executable memory for translations, in one of two forms. Two views (`separate_views`): a
/// memfd mapped twice, `rw` to write code and `rx` to execute it, so no page is ever writable
/// and executable through the same mapping (W^X); a forked child shares the memfd and must be
/// given a copy (`rivet_code_region_copy`). One mapping: private anonymous memory, readable,
/// writable and executable, `rw` equal to `rx` and `fd` -1; a forked child gets it
/// copy-on-write from the kernel, like the rest of the process.
typedef struct {
    uint8_t *rw;
    uint8_t *rx;
    size_t size;
    int fd;
} rivet_code_region;

/// Creates a code region of `size` bytes (a multiple of the page size), as two views of a
/// memfd if `separate_views` or if the host refuses one mapping both writable and executable,
/// else as one mapping (`fd` -1). Returns 0, or errno.
int rivet_code_region_create(size_t size, int separate_views, rivet_code_region *out);

/// A new memfd (close-on-exec) of the region's size holding the `count` ranges (`offsets`,
/// `lengths`) of it: a copy for a forked child (`rivet_code_region_adopt`). Returns the memfd,
/// or -errno.
int rivet_code_region_copy(const rivet_code_region *region, const size_t *offsets, const size_t *lengths, int count);

/// Maps memfd `fd` (a `rivet_code_region_copy`) over both views at the same addresses and
/// closes the old one. Returns 0, or errno with both views still on the old memfd (`fd` is then
/// the caller's to close).
int rivet_code_region_adopt(rivet_code_region *region, int fd);

/// Unmaps both views and closes the memfd.
void rivet_code_region_destroy(rivet_code_region *region);

/// Stores eight bytes of code at `address` (8-byte aligned) in one atomic store: a thread
/// running that code meanwhile fetches the old bytes or the new ones, never half of each.
void rivet_store_code64(void *address, uint64_t value);

/// mremap(2) of `old_size` bytes at `old_address` to exactly `new_address` (MREMAP_MAYMOVE |
/// MREMAP_FIXED), growing or shrinking to `new_size`. With `keep_source` (MREMAP_DONTUNMAP,
/// sizes equal) the source stays mapped, emptied, so that no hole opens in a reservation.
/// Returns 0, or errno.
int rivet_mremap_fixed(void *old_address, size_t old_size, size_t new_size, void *new_address, int keep_source);

/// memfd_create(2) with MFD_CLOEXEC. Returns the descriptor, or -errno.
int rivet_memfd(const char *name);

/// getrandom(2) of `count` bytes (blocking only until the host's pool is ready). Returns the
/// bytes written, or -errno.
long rivet_random_bytes(void *buffer, size_t count);

/// memfd_create(2) with the guest's `flags` (MFD_CLOEXEC, MFD_ALLOW_SEALING). Returns the
/// descriptor, or -errno.
int rivet_memfd_flags(const char *name, unsigned flags);

/// Makes the host ignore SIGPIPE unless something installed a handler for it: a guest writing
/// to a closed pipe gets EPIPE (and its own SIGPIPE, from the syscall layer); Rivet must not die.
void rivet_ignore_host_sigpipe(void);

/// Whether the host has FMA3 (VEX-encoded fused multiply-add) and the OS saves the YMM state;
/// 0 if the environment variable RIVET_NO_FMA is set.
int rivet_host_has_fma(void);

/// Whether the host runs AVX-512F code (the CPU has it and the OS saves its state), unless
/// RIVET_NO_AVX512 is set.
int rivet_host_has_avx512(void);

/// Slots of the hart state (64-bit words) that the fault handler writes. They must match
/// HartState.Slot in RivetMachine; RivetJIT checks this at start-up.
enum {
    RIVET_SLOT_FAULT_SIGNAL = 71,
    RIVET_SLOT_FAULT_HOST_PC = 72,
    RIVET_SLOT_FAULT_HOST_ADDRESS = 73,
    RIVET_SLOT_GUEST_BASE = 74,
    RIVET_SLOT_GUEST_LIMIT = 75,
    /// 16 slots: the host's general-purpose registers at the fault, in x86-64 encoding order
    /// (rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8 ... r15).
    RIVET_SLOT_FAULT_REGISTERS = 80,
    /// Why the hart must stop at its next check (the interpreter checks at every block, the
    /// run loop at every turn): RIVET_ATTENTION_* bits, set and cleared atomically.
    RIVET_SLOT_ATTENTION = 98,
    /// The first host fault's signal, plus RIVET_HOST_FAULT_WRITE if it was a write.
    RIVET_SLOT_HOST_FAULT_SIGNAL = 99,
    /// The first host fault's guest address.
    RIVET_SLOT_HOST_FAULT_ADDRESS = 100,
    /// Guest signals posted from outside the hart's thread (host signals forwarded to the guest):
    /// bit n-1 for signal n, set and taken atomically.
    RIVET_SLOT_POSTED_SIGNALS = 101,
    /// The value the hart's last LR loaded (see HartState.Slot.reservationValue): an SC succeeds
    /// only if a compare-and-swap from it succeeds.
    RIVET_SLOT_RESERVATION_VALUE = 102,
    /// What the hart's thread is doing now (a RIVET_ACTIVITY_*), written at the run loop's
    /// coarse boundaries and read by the time sampler (`rivet_sampler_*`) for `--stats`.
    RIVET_SLOT_ACTIVITY = 103,
    /// The host's MXCSR at the fault (see HartState.Slot.mxcsr): tier-2 code's FP exception flags.
    RIVET_SLOT_MXCSR = 300,
    /// 16 slots: the low 64 bits of xmm0 ... xmm15 at the fault (tier-2 code's float values).
    RIVET_SLOT_FAULT_XMM_REGISTERS = 301,
};

/// Host code (not JIT code) faulted on guest memory and survived (RIVET_SLOT_HOST_FAULT_*).
#define RIVET_ATTENTION_HOST_FAULT 1ull
/// Another thread asked the hart to stop and look (signals were posted, a limit was reached).
#define RIVET_ATTENTION_INTERRUPT 2ull
/// The run's wall-time limit has passed.
#define RIVET_ATTENTION_DEADLINE 4ull
/// The process is ending (exit_group, a fatal signal, a limit in another thread): every guest
/// thread stops where it is.
#define RIVET_ATTENTION_ENDING 8ull
/// Another thread changed guest code this hart's interpreter decoded: it drops those blocks at
/// its next stop (see BlockCache).
#define RIVET_ATTENTION_CODE_CHANGED 16ull
/// The embedder asked the run to stop where it is, resumably (a pause, or another thread's
/// instruction or time limit): blocking syscalls end and run again when the guest resumes.
#define RIVET_ATTENTION_PAUSE 32ull
/// What ends a blocking syscall early: the run's deadline, its end, or a pause.
#define RIVET_ATTENTION_STOPS_BLOCKING 44ull  /* DEADLINE | ENDING | PAUSE (a literal, for Swift) */

/// Sets attention bits.
static inline void rivet_set_attention(uint64_t *slots, uint64_t bits) {
    __atomic_fetch_or(&slots[RIVET_SLOT_ATTENTION], bits, __ATOMIC_SEQ_CST);
}

/// Clears attention bits.
static inline void rivet_clear_attention(uint64_t *slots, uint64_t bits) {
    __atomic_fetch_and(&slots[RIVET_SLOT_ATTENTION], ~bits, __ATOMIC_SEQ_CST);
}

/// Takes every posted signal (bit n-1 for signal n), leaving none.
static inline uint64_t rivet_take_posted_signals(uint64_t *slots) {
    return __atomic_exchange_n(&slots[RIVET_SLOT_POSTED_SIGNALS], 0, __ATOMIC_SEQ_CST);
}

/// What a hart's thread is doing (RIVET_SLOT_ACTIVITY). A fresh hart's slot is 0: the run loop.
enum {
    /// The run loop, the transitions between tiers, signal delivery: Rivet's own work.
    RIVET_ACTIVITY_RUN_LOOP = 0,
    /// Compiled (tier-1) code, with the helpers it calls.
    RIVET_ACTIVITY_COMPILED = 1,
    /// The interpreter (tier 0).
    RIVET_ACTIVITY_INTERPRETER = 2,
    /// A syscall's host work.
    RIVET_ACTIVITY_SYSCALL = 3,
    /// A host call that may block for the guest (futex, poll, a read of a pipe, a sleep), or
    /// the first thread waiting for the others to end.
    RIVET_ACTIVITY_BLOCKED = 4,
    /// Waiting for the process's lock, held by another guest thread.
    RIVET_ACTIVITY_LOCK = 5,
    /// Compiling on the guest thread (no compile workers, or `--tier baseline`).
    RIVET_ACTIVITY_COMPILING = 6,
    RIVET_ACTIVITY_COUNT = 7,
};

/// Says what the hart's thread is doing now: one plain store (relaxed, so the compiler keeps
/// it where it is written), cheap enough for every entry into compiled code.
static inline void rivet_set_activity(uint64_t *slots, uint64_t activity) {
    __atomic_store_n(&slots[RIVET_SLOT_ACTIVITY], activity, __ATOMIC_RELAXED);
}

/// What the hart's thread is doing now.
static inline uint64_t rivet_activity(const uint64_t *slots) {
    return __atomic_load_n(&slots[RIVET_SLOT_ACTIVITY], __ATOMIC_RELAXED);
}

// MARK: Guest atomics on the host
//
// The A extension's read-modify-write operations, each one host atomic operation on the host
// address of a guest word or doubleword (which the caller checked: aligned, inside the guest
// space, with the rights the guest needs). All are sequentially consistent: on x86-64 each is a
// locked instruction (xchg, lock xadd/or/and/xor/cmpxchg), a full barrier, so whatever .aq/.rl
// bits the guest instruction has, they are honoured.

/// An AMO's operation on the old value and the operand; min/max are signed, minu/maxu unsigned.
typedef enum {
    RIVET_AMO_SWAP,
    RIVET_AMO_ADD,
    RIVET_AMO_XOR,
    RIVET_AMO_AND,
    RIVET_AMO_OR,
    RIVET_AMO_MIN,
    RIVET_AMO_MAX,
    RIVET_AMO_MINU,
    RIVET_AMO_MAXU,
} rivet_amo;

/// Defines `name(guest, operation, operand)`, returning the old value at the host address
/// `guest`: the AMO table, once for each width (`type` unsigned, `signed_type` its signed twin).
#define RIVET_DEFINE_AMO(name, type, signed_type)                                                       \
    static inline type name(void *guest, rivet_amo operation, type operand) {                           \
        type *address = (type *)guest;                                                                  \
        switch (operation) {                                                                            \
        case RIVET_AMO_SWAP: return __atomic_exchange_n(address, operand, __ATOMIC_SEQ_CST);          \
        case RIVET_AMO_ADD: return __atomic_fetch_add(address, operand, __ATOMIC_SEQ_CST);            \
        case RIVET_AMO_XOR: return __atomic_fetch_xor(address, operand, __ATOMIC_SEQ_CST);            \
        case RIVET_AMO_AND: return __atomic_fetch_and(address, operand, __ATOMIC_SEQ_CST);            \
        case RIVET_AMO_OR: return __atomic_fetch_or(address, operand, __ATOMIC_SEQ_CST);              \
        case RIVET_AMO_MIN: case RIVET_AMO_MAX: case RIVET_AMO_MINU: case RIVET_AMO_MAXU: break;      \
        }                                                                                               \
        /* min/max have no host instruction: a compare-and-swap loop. It stores even when the old   \
           value stays, so that it is a locked write (a full barrier) like the others. */             \
        int is_signed = operation == RIVET_AMO_MIN || operation == RIVET_AMO_MAX;                       \
        int is_minimum = operation == RIVET_AMO_MIN || operation == RIVET_AMO_MINU;                     \
        type old = __atomic_load_n(address, __ATOMIC_RELAXED);                                          \
        for (;;) {                                                                                      \
            int less = is_signed ? (signed_type)old < (signed_type)operand : old < operand;             \
            type new_value = (is_minimum ? less : !less) ? old : operand;                               \
            if (__atomic_compare_exchange_n(address, &old, new_value, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) \
                return old;                                                                             \
        }                                                                                               \
    }

RIVET_DEFINE_AMO(rivet_amo32, uint32_t, int32_t)
RIVET_DEFINE_AMO(rivet_amo64, uint64_t, int64_t)
#undef RIVET_DEFINE_AMO

/// Stores `desired` at `address` if it holds `expected` (one sequentially consistent
/// compare-and-swap). Returns 1 if it stored, 0 if not.
static inline int rivet_compare_and_swap32(void *address, uint32_t expected, uint32_t desired) {
    return __atomic_compare_exchange_n((uint32_t *)address, &expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

/// rivet_compare_and_swap32 for a doubleword.
static inline int rivet_compare_and_swap64(void *address, uint64_t expected, uint64_t desired) {
    return __atomic_compare_exchange_n((uint64_t *)address, &expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

/// An atomic (untorn) load of a guest word, for LR; on x86-64 a plain load, which no later
/// load or store overtakes (so .aq needs nothing more).
static inline uint32_t rivet_atomic_load32(const void *address) {
    return __atomic_load_n((const uint32_t *)address, __ATOMIC_ACQUIRE);
}

/// rivet_atomic_load32 for a doubleword.
static inline uint64_t rivet_atomic_load64(const void *address) {
    return __atomic_load_n((const uint64_t *)address, __ATOMIC_ACQUIRE);
}

/// A full host memory barrier (mfence on x86-64): every earlier load and store is globally
/// visible before any later one, the one reordering x86-64's TSO allows (a later load passing
/// an earlier store) included.
static inline void rivet_full_barrier(void) {
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/// The host's futex(2): `address` and `address2` are host addresses (of guest words),
/// `timeout` a host `struct timespec *` or, for the requeue operations, the count `val2`.
/// Returns the result, or -errno.
long rivet_futex(uint32_t *address, int op, uint32_t value, uintptr_t timeout, uint32_t *address2, uint32_t value3);

/// Between these, on the calling thread, the host calls made through `rivet_syscall`,
/// `rivet_futex` and `rivet_waitid` end with EINTR when any of the attention bits
/// RIVET_ATTENTION_INTERRUPT or RIVET_ATTENTION_STOPS_BLOCKING of `slots` is set, also when
/// SIGURG came after the caller last looked and before the call started (which a plain
/// syscall would miss, and then wait for ever).
void rivet_blocking_begin(uint64_t *slots);
void rivet_blocking_end(void);

/// The raw waitid(2) syscall (with its rusage argument). Returns 0, or -errno.
long rivet_waitid(int which, int id, void *info, int options, void *usage);

/// The calling thread's host thread id (gettid).
int32_t rivet_gettid(void);

/// The host's syscall(2) with six arguments, for the calls glibc has no wrapper for (openat2,
/// statx, getdents64 ...) and Swift cannot reach through the variadic `syscall`. Returns the
/// result, or -1 with errno set.
long rivet_syscall(long number, long a, long b, long c, long d, long e, long f);

/// The value of entry `type` of this process's auxiliary vector (getauxval(3), which Swift's
/// Glibc module does not export), or 0.
unsigned long rivet_auxiliary_value(unsigned long type);

/// Set in RIVET_SLOT_HOST_FAULT_SIGNAL when the faulting access was a write.
#define RIVET_HOST_FAULT_WRITE 0x100

/// The value of a permission-table byte for a page wholly past the end of its file
/// (MemoryPermissions.pastFileEnd: no rights, SIGBUS on access).
#define RIVET_PAGE_PAST_FILE_END 16

/// Installs the SIGSEGV/SIGBUS handler (once per process) and an alternate signal stack for
/// the calling thread if it has none. Faults that are not in registered JIT code are passed to
/// the handler that was installed before (Swift's crash reporter), so real crashes still report.
void rivet_install_fault_handler(void);

/// Registers JIT code in [start, end): a fault there whose address lies inside the guest
/// reservation described by the hart state in rbx (slots GUEST_BASE and GUEST_LIMIT) records
/// the fault in that state and resumes at `fault_exit`. Returns 0, or -1 if the table is full.
int rivet_register_code_range(uintptr_t start, uintptr_t end, uintptr_t fault_exit);

/// Forgets a range registered with rivet_register_code_range.
void rivet_unregister_code_range(uintptr_t start);

/// Faults handled so far by the handler (all threads).
uint64_t rivet_handled_fault_count(void);

/// Registers a guest address space: `size` bytes (with its guard region) reserved at `base`,
/// and its permission table (one byte per page). A fault that host code — Swift or C, not JIT
/// code — takes on that memory is survived: SIGBUS on a page past the end of its file (the file
/// shrank behind the guest's back) replaces the page with zeros and marks it past the end in the
/// table; SIGSEGV (another thread changed the mapping meanwhile) opens the page to the access.
/// Either way the access completes, the fault is recorded in the hart of the calling thread
/// (RIVET_SLOT_HOST_FAULT_*), and the page is listed for `rivet_take_host_fault_pages`, so that
/// the hart can restore the page's protection and give the guest its signal.
/// Returns 0, or -1 if the table of spaces is full.
int rivet_register_guest_space(uintptr_t base, uintptr_t size, uint8_t *permissions);

/// Forgets a space registered with rivet_register_guest_space.
void rivet_unregister_guest_space(uintptr_t base);

/// Names the hart state (its slots) whose guest accesses this thread makes from now on; host
/// faults on guest memory are recorded there. NULL: none (such faults are then fatal).
/// `dispatch` is the interpreter's block table (`entries` entries of two words, the guest pc
/// first): a host fault empties it (each pc becomes 1), so that the interpreter's next lookup
/// misses and takes the path that looks at the hart's attention bits.
void rivet_set_thread_hart(uint64_t *slots, uint64_t *dispatch, size_t entries);

/// A thread that watches one run of a hart: it interrupts the hart's thread (RIVET_ATTENTION_*
/// and SIGURG, which ends a blocking host syscall with EINTR) when the run's deadline passes or
/// signals are posted to it, and again every 10 ms until the hart takes notice, so that a
/// guest blocked in a syscall or looping in a fault handler still stops in time.
typedef struct rivet_watchdog rivet_watchdog;

/// Starts a watchdog for the hart `slots`, run by the calling thread (which takes SIGURG until
/// the watchdog stops). `deadline` is a CLOCK_MONOTONIC time in nanoseconds, 0 for none. NULL
/// if no thread could be started.
rivet_watchdog *rivet_watchdog_start(uint64_t *slots, uint64_t deadline);

/// Stops and frees a watchdog (and stops forwarding host signals to it). Call it on the thread
/// that started it: that thread's signal mask is restored.
void rivet_watchdog_stop(rivet_watchdog *watchdog);

/// Posts guest signal `signal` (1...64) to the watchdog's hart. Async-signal-safe.
void rivet_watchdog_post(rivet_watchdog *watchdog, int signal);

/// Makes the watchdog look at its hart's attention bits now (RIVET_ATTENTION_PAUSE was set).
void rivet_watchdog_wake(rivet_watchdog *watchdog);

/// Changes the watchdog's deadline (CLOCK_MONOTONIC nanoseconds, 0 for none).
void rivet_watchdog_set_deadline(rivet_watchdog *watchdog, uint64_t deadline);

/// Makes the host signals in `mask` (bit n-1 for signal n) sent to this process guest signals
/// posted to `watchdog` (as qemu-user forwards them), until the watchdog stops.
void rivet_forward_host_signals(rivet_watchdog *watchdog, uint64_t mask);

/// A thread that samples, every millisecond or so, what each registered hart's thread is
/// doing (RIVET_SLOT_ACTIVITY), and adds the time since its previous look to that activity's
/// total: where the time went, for `--stats`, at no cost to the harts beyond the stores of
/// `rivet_set_activity`. Each hart's totals add up to the time it was registered.
typedef struct rivet_sampler rivet_sampler;

/// What a sampler measured: the first hart's nanoseconds per activity, every hart's summed
/// (the first's included), how many harts it saw, and how many looks it took.
typedef struct {
    uint64_t first[RIVET_ACTIVITY_COUNT];
    uint64_t all[RIVET_ACTIVITY_COUNT];
    uint64_t harts;
    uint64_t samples;
} rivet_sampler_report;

/// Starts a sampler that looks every fiftieth of the time since it started, but not more often
/// than every `shortest` nanoseconds nor less often than every `longest`: some fifty looks for
/// each tenfold of the run's length. NULL if no thread could be started.
rivet_sampler *rivet_sampler_start(uint64_t shortest, uint64_t longest);

/// Registers a hart (its `slots`); its time counts from now. The first hart registered is the
/// report's `first`. Returns 0, or ENOMEM.
int rivet_sampler_add(rivet_sampler *sampler, const uint64_t *slots);

/// Unregisters a hart whose thread ends (before its slots are freed): its time up to now goes
/// into the report's `all`.
void rivet_sampler_remove(rivet_sampler *sampler, const uint64_t *slots);

/// Stops the sampler, writes what it measured (the harts still registered count up to now),
/// and frees it.
void rivet_sampler_stop(rivet_sampler *sampler, rivet_sampler_report *report);

/// The host addresses of the pages this thread's host faults changed since the last call, at
/// most `capacity`; returns how many, or -1 if more were changed than the list holds (the
/// guest must then be stopped: some page's protection cannot be restored).
int rivet_take_host_fault_pages(uintptr_t *pages, int capacity);

/// Host descriptors a guest holds, by owner (a virtual machine's descriptor table): a forked
/// guest's host process closes those of the other machines in the embedding process, which it
/// copied and cannot use (a sibling's pipe would see no hang-up until the child ends).
/// Descriptors from `RIVET_TRACKED_DESCRIPTORS` on are not tracked.
#define RIVET_TRACKED_DESCRIPTORS 65536

/// A new owner, never 0.
uint32_t rivet_descriptor_owner_new(void);

/// Notes `fd` as held by `owner` (replacing any other owner).
void rivet_descriptor_claim(int fd, uint32_t owner);

/// Forgets `fd`'s owner, before the descriptor is closed.
void rivet_descriptor_release(int fd);

/// `fd`'s owner, or 0.
uint32_t rivet_descriptor_owner(int fd);

/// In a forked child (async-signal-safe): closes every descriptor held by an owner other than
/// `owner`, and forgets it. Returns how many it closed.
int rivet_descriptors_close_foreign(uint32_t owner);
