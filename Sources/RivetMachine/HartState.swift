import CRivetHost

/// The architectural state of one hart, in memory with a fixed layout of 64-bit slots.
///
/// Every tier reaches the registers through `slots`, so the layout is part of the contract
/// between the tiers and is given by the `Slot` constants, never by Swift's struct layout. JIT
/// code reads and writes the same slots through a pinned host register.
///
/// Slot 32 is a sink: decoded instructions whose destination is `x0` write there, so `x0`
/// (slot 0) stays zero without a check on every write.
public final class HartState: @unchecked Sendable {
    /// Slot indices, each one 64-bit word.
    public enum Slot {
        /// `x0`...`x31` are slots 0...31.
        @inlinable public static var x: Int { 0 }
        /// Writes to `x0` land here.
        @inlinable public static var zeroSink: Int { 32 }
        /// `f0`...`f31` are slots 33...64, each the register's 64 raw bits (NaN-boxed singles).
        @inlinable public static var f: Int { 33 }
        @inlinable public static var pc: Int { 65 }
        /// `fflags` in bits 4:0, `frm` in bits 7:5.
        @inlinable public static var fcsr: Int { 66 }
        /// The address reserved by the last `lr`, with bit 0 set if it was `lr.d` (so that an
        /// SC of the other width fails; an LR's address is aligned, so bit 0 is free), or
        /// `noReservation`. See `GuestMemory.execute(_:address:operand:slots:)`.
        @inlinable public static var reservation: Int { 67 }
        /// Instructions retired.
        @inlinable public static var instret: Int { 68 }

        // Slots used by JIT code and the fault handler (CRivetHost.h names the same numbers).
        /// Instructions JIT code may still execute before returning to the run loop.
        @inlinable public static var budget: Int { 69 }
        /// A value JIT code leaves for the run loop at an exit (the exit's kind and site).
        @inlinable public static var exitValue: Int { 70 }
        /// The host signal of a fault in JIT code.
        @inlinable public static var faultSignal: Int { 71 }
        /// The host pc of a fault in JIT code.
        @inlinable public static var faultHostPC: Int { 72 }
        /// The host address of a fault in JIT code.
        @inlinable public static var faultHostAddress: Int { 73 }
        /// Host address of guest address 0, and the end of the reservation with its guard.
        @inlinable public static var guestBase: Int { 74 }
        @inlinable public static var guestLimit: Int { 75 }
        /// Host address of the indirect-branch cache that JIT code probes.
        @inlinable public static var jumpCache: Int { 76 }
        /// `budget` when the run loop entered JIT code (to compute `instret` inside it).
        @inlinable public static var budgetAtEntry: Int { 77 }
        /// The JIT's helper context (an unretained object pointer) for helper calls.
        @inlinable public static var helperContext: Int { 78 }
        /// Indirect jumps executed in JIT code.
        @inlinable public static var indirectJumps: Int { 79 }
        /// 16 slots: host general-purpose registers at a fault in JIT code.
        @inlinable public static var faultRegisters: Int { 80 }
        /// The size of the guest address space, for bounds checks in JIT code.
        @inlinable public static var addressSpaceSize: Int { 96 }
        /// Host address of the JIT's common exit, where every exit stub jumps.
        @inlinable public static var commonExit: Int { 97 }
        /// Why the hart must stop at its next check (CRivetHost's RIVET_ATTENTION_* bits, set
        /// and cleared atomically): host code faulted on guest memory and survived (bit 0:
        /// `GuestMemory.settleHostFaults` turns it into a fault), another thread interrupts
        /// (bit 1: signals were posted), the deadline passed (bit 2).
        @inlinable public static var attention: Int { 98 }
        /// The host fault's host signal, with `0x100` set for a write.
        @inlinable public static var hostFaultSignal: Int { 99 }
        /// The host fault's guest address.
        @inlinable public static var hostFaultAddress: Int { 100 }
        /// Guest signals posted from other threads (bit n-1 for signal n), taken atomically.
        @inlinable public static var postedSignals: Int { 101 }
        /// The value the last `lr` loaded (`lr.w`: its 32 bits, zero-extended), meaningful while
        /// `reservation` holds an address: the SC succeeds only if a host compare-and-swap from
        /// this value to its own succeeds.
        @inlinable public static var reservationValue: Int { 102 }
        /// What the hart's thread is doing now (a `HartActivity`), for the time sampler.
        @inlinable public static var activity: Int { 103 }
        /// A C-convention function JIT code calls at an `ecall` before leaving for the run loop
        /// (`(slots, ecall's pc, from JIT code) -> EcallOutcome`), or 0; the engine's embedder sets it.
        @inlinable public static var ecallHandler: Int { 104 }
        /// What the ecall handler needs (an unretained pointer its owner keeps alive).
        @inlinable public static var ecallContext: Int { 105 }
        /// The budget when the running tier-2 region was entered (its exits count the
        /// instructions it ran from it).
        @inlinable public static var tier2Entry: Int { 106 }
        /// `spillCount` slots: tier-2 code's spilled values (in the state, not on the stack, so
        /// that a fault's recovery finds them beside the registers and no frame is needed).
        @inlinable public static var spill: Int { 107 }
        @inlinable public static var spillCount: Int { 192 }
        /// The hart's execution counters (what JIT code keeps in `r13`), for tier-2 code, which
        /// uses `r13` and `r14` for values and reloads them from here before it leaves.
        @inlinable public static var counters: Int { 299 }
        /// The host's SSE control and status register (MXCSR, in the low 32 bits): the fault
        /// handler's copy at a fault in JIT code (tier-2 code accrues its exception flags into
        /// `fflags`), and tier-2 code's scratch for `ldmxcsr`/`stmxcsr`.
        @inlinable public static var mxcsr: Int { 300 }
        /// 16 slots: the low 64 bits of the host's `xmm0`...`xmm15` at a fault in JIT code
        /// (tier-2 code keeps float values in XMM registers), saved where `faultRegisters` are.
        @inlinable public static var faultXMMRegisters: Int { 301 }
        @inlinable public static var count: Int { 317 }
    }

    public static let noReservation = UInt64.max

    /// The slots; valid for the lifetime of the hart. Owned by this object.
    public let slots: UnsafeMutablePointer<UInt64>

    public init() {
        slots = .allocate(capacity: Slot.count)
        slots.initialize(repeating: 0, count: Slot.count)
        slots[Slot.reservation] = Self.noReservation
    }

    deinit { slots.deallocate() }

    /// Clears everything of the guest's in the slots (registers, pc, fcsr, reservation, counts,
    /// attention, posted signals, fault records), keeping what the engine set up for its JIT
    /// code: for a hart recycled into another guest.
    public func resetGuestState() {
        let kept = [Slot.guestBase, Slot.guestLimit, Slot.jumpCache, Slot.addressSpaceSize, Slot.commonExit, Slot.helperContext]
        let values = kept.map { slots[$0] }
        slots.update(repeating: 0, count: Slot.count)
        for (slot, value) in zip(kept, values) { slots[slot] = value }
        slots[Slot.reservation] = Self.noReservation
    }

    /// The pc. Bit 0 is always clear, as in RISC-V's `sepc` with compressed instructions: a
    /// signal handler's address or a sigcontext's pc with bit 0 set resumes at the even address,
    /// as on Linux.
    public var pc: UInt64 {
        get { slots[Slot.pc] }
        set { slots[Slot.pc] = newValue & ~1 }
    }

    public var fcsr: UInt64 {
        get { slots[Slot.fcsr] }
        set { slots[Slot.fcsr] = newValue & 0xff }
    }

    public var instret: UInt64 {
        get { slots[Slot.instret] }
        set { slots[Slot.instret] = newValue }
    }

    /// Integer register `n` (0...31); writes to `x0` are ignored.
    public subscript(x n: Int) -> UInt64 {
        get { slots[n] }
        set { if n != 0 { slots[n] = newValue } }
    }

    /// FP register `n` (0...31), as raw bits.
    public subscript(f n: Int) -> UInt64 {
        get { slots[Slot.f + n] }
        set { slots[Slot.f + n] = newValue }
    }
}

/// What a hart's thread is doing, as the time sampler of `--stats` sees it (CRivetHost's
/// RIVET_ACTIVITY_*, in the slot `HartState.Slot.activity`). The run loop and the syscall layer
/// say it at their coarse boundaries — an entry into compiled code or the interpreter, a
/// syscall, a blocking host call — with one store each; a thread elsewhere samples it.
public enum HartActivity: UInt64, CaseIterable, Sendable {
    /// The run loop, the transitions between tiers, signal delivery: Rivet's own work.
    case runLoop = 0
    /// Compiled (tier-1) code, with the helpers it calls.
    case compiled = 1
    /// The interpreter (tier 0).
    case interpreter = 2
    /// A syscall's host work.
    case syscall = 3
    /// A host call that may block for the guest (futex, poll, a read of a pipe, a sleep).
    case blocked = 4
    /// Waiting for the process's lock, which another guest thread holds.
    case lock = 5
    /// Compiling on the guest's thread.
    case compiling = 6
}

extension HartState {
    /// What the hart's thread is doing now (see `HartActivity`): a plain store, for the run
    /// loop's every turn.
    public var activity: HartActivity {
        @inline(__always) get { HartActivity(rawValue: rivet_activity(slots)) ?? .runLoop }
        @inline(__always) set { rivet_set_activity(slots, newValue.rawValue) }
    }
}
