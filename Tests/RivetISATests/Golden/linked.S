# A small static executable whose `objdump -d` listing exercises what depends on the linked
# file rather than on single instructions: symbol labels (several symbols at one address,
# local, weak, absolute), branch targets named after symbols, address comments after
# auipc/lui, gp- and tp-relative addresses, zero padding between functions, an object in a
# code section (dumped as data), data in code (mapping symbols), a second code section, and CSR
# names of privileged spec 1.12.
#
# regenerate.sh assembles and links it (riscv64-linux-gnu-as, -ld -static) into `linked`, records
# `riscv64-linux-gnu-objdump -d linked` in linked.objdump. It is never run.

    .attribute priv_spec, 1
    .attribute priv_spec_minor, 12
    .set small_absolute, 0x10

    .text
    .globl _start
    .type _start, @function
_start:
    .option push
    .option norelax
    lla gp, __global_pointer$
    .option pop
    call main
    li a7, 93
    ecall
    .size _start, .-_start

    .globl main
    .type main, @function
main:
    addi sp, sp, -16
    sd ra, 8(sp)
    la a0, message
    ld a1, counter
    lla a2, counter
    sd a1, 8(a2)
    lui a3, %hi(buffer)
    addi a3, a3, %lo(buffer)
    call helper
    tail helper
    .size main, .-main

    .option norelax
    .globl helper
    .type helper, @function
    .weak weak_helper
    .type weak_helper, @function
helper:
weak_helper:
.Lhelper_loop:
    beqz a0, 1f
    addi a0, a0, -1
    j .Lhelper_loop
1:  bnez a1, main
    ld a0, 16(tp)
    sd a0, -8(tp)
    addi a0, gp, -2048
    ld a1, 8(gp)
    sw a1, 0(gp)
    auipc gp, 0
    jalr ra, 8(gp)
    csrr a0, senvcfg
    csrr a0, 0x043
    frflags a1
    auipc a4, 0
    .size helper, .-helper
local_next:
    addi a4, a4, 32
    ret

    .section .text.padded, "ax", @progbits
    .p2align 5
    .globl padded
    .type padded, @function
padded:
    c.nop
    .rept 6
    .insn 2, 0x0000
    .endr
    ret
    .type table, @object
table:
    .insn 4, 0x6c6c6543
    .insn 4, 0x6f77206f
    .insn 4, 0x00646c73
    .insn 2, 0x0001
    .size table, .-table
after_table:
    jal helper
    j padded
data_in_code:
    # Data marked by $d mapping symbols prints as .word/.short/.byte.
    .word 0x12345678
    .byte 1
    c.nop
    .byte 1, 2, 3
    .half 0x1234

    .section .othercode, "ax", @progbits
    .globl other
    .type other, @function
other:
    jal main
    bltz a0, other
    ret

    .data
    .type message, @object
message:
    .string "hello"
    .size message, .-message
    .p2align 3
    .type counter, @object
counter:
    .dword 42
    .size counter, 8

    .bss
    .type buffer, @object
buffer:
    .zero 64
    .size buffer, 64
