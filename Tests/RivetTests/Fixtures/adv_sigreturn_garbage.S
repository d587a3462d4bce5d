/* Adversarial: rt_sigreturn with a stack pointer that points at nothing. Linux forces SIGSEGV
 * (the frame cannot be read, and no handler frame can be pushed there either): status 139,
 * and Rivet's report names the guest pc.
 * rivet-fixture: no-qemu */
    .globl _start
_start:
    li sp, 0x10
    li a7, 139
    ecall
    li a0, 1
    li a7, 93
    ecall
