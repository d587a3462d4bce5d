// CRivetHost: what Swift cannot do well (DESIGN.md): executable memory and the fault handler
// that turns a hardware fault in JIT code into a precise guest trap.
#pragma once
#include <stddef.h>
#include <stdint.h>

/// A region of memory mapped twice from one memfd: `rw` to write code, `rx` to execute it.
/// No page is ever writable and executable through the same mapping (W^X).
typedef struct {
    uint8_t *rw;
    uint8_t *rx;
    size_t size;
    int fd;
} rivet_code_region;

/// Creates a code region of `size` bytes (a multiple of the page size). Returns 0, or errno.
int rivet_code_region_create(size_t size, rivet_code_region *out);

/// Unmaps both views and closes the memfd.
void rivet_code_region_destroy(rivet_code_region *region);

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
};

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
