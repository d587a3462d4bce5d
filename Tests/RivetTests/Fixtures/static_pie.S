# A static position-independent executable without libc (ET_DYN, no PT_INTERP): it reaches its
# data pc-relatively, so it runs wherever the loader places it, and reports whether that is
# above 4 GiB (Linux, and Rivet, load ET_DYN programs at 2/3 of the address space).
# rivet-fixture: cflags -static-pie -fPIE -Wl,--no-dynamic-linker
    .option norelax             # no gp-relative relaxation: gp is never set
    .text
    .globl _start
_start:
    lla     a1, message
    li      a0, 1
    li      a2, 42
    li      a7, 64              # write(1, message, length)
    ecall
    lla     t0, _start
    srli    t0, t0, 32
    snez    t0, t0
    addi    t0, t0, '0'         # '1' when loaded above 4 GiB
    lla     a1, flag
    sb      t0, 0(a1)
    li      a0, 1
    li      a2, 2
    li      a7, 64
    ecall
    li      a0, 7
    li      a7, 93              # exit(7)
    ecall

    .data
message:
    .ascii  "position-independent, loaded above 4 GiB: "
message_end:
flag:
    .ascii  "?\n"
