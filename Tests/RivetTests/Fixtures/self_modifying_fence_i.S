/* fence.i at different places in a block (first, in the middle, after a store, last before a
 * branch), executed many times, must continue at the next instruction, although the decoded
 * code it drops includes its own block. Then code in an RWX page stores a new instruction
 * right after its own fence.i and must run it, twice with different instructions.
 * No libc: results are printed with raw write syscalls. */

    .option norelax         /* no crt sets gp: keep lla pc-relative */

/* Prints "TEXT <reg in hex>\n". Clobbers a0, a1, a2, a7, t0-t3 and ra. */
.macro SHOW reg, text
    mv a0, \reg
    lla a1, .Lstr\@
    call show
    .pushsection .rodata
.Lstr\@: .asciz "\text"
    .popsection
.endm

    .text
    .globl _start
_start:
    c.li a0, 0
    fence.i                 /* ends the program's first block */
    addi a0, a0, 5
    SHOW a0, "first block"
    li s0, 0                /* accumulator */
    li s1, 50               /* iterations */
    lla s2, scratch
1:  fence.i                 /* first in its block */
    addi s0, s0, 1
    addi s0, s0, 2
    fence.i                 /* in the middle */
    addi s0, s0, 3
    sd s0, 0(s2)
    fence.i                 /* right after a store */
    ld t1, 0(s2)
    add s0, s0, t1
    srli s0, s0, 1
    addi s1, s1, -1
    fence.i                 /* last before the branch */
    bnez s1, 1b
    SHOW s0, "fence.i loop"
    fence.i
    fence.i                 /* twice in a row */
    SHOW s1, "after fence.i pairs"

    /* mmap(0, 4096, PROT_READ|PROT_WRITE|PROT_EXEC, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) */
    li a0, 0
    li a1, 4096
    li a2, 7
    li a3, 0x22
    li a4, -1
    li a5, 0
    li a7, 222
    ecall
    mv s3, a0
    lla t0, template
    ld t1, 0(t0)
    sd t1, 0(s3)
    ld t1, 8(t0)
    sd t1, 8(s3)
    fence.i
    /* The code stores a1 over the instruction after its fence.i and returns its a0. */
    mv a0, s3
    li a1, 0x02a00513       /* addi a0, zero, 42 */
    jalr s3
    mv s4, a0
    SHOW s4, "patched once"
    mv a0, s3
    li a1, 0x00700513       /* addi a0, zero, 7 */
    jalr s3
    mv s4, a0
    SHOW s4, "patched twice"
    mv a0, s3
    li a1, 0x00100513       /* addi a0, zero, 1: the template's own instruction */
    jalr s3
    mv s4, a0
    SHOW s4, "patched back"

    li a0, 0
    li a7, 93
    ecall

/* show(a0 = value, a1 = text) */
show:
    lla t0, linebuf
2:  lbu t1, 0(a1)
    beqz t1, 3f
    sb t1, 0(t0)
    addi a1, a1, 1
    addi t0, t0, 1
    j 2b
3:  li t1, ' '
    sb t1, 0(t0)
    addi t0, t0, 1
    li t2, 60
4:  srl t1, a0, t2
    andi t1, t1, 15
    li t3, 10
    blt t1, t3, 5f
    addi t1, t1, 'a' - '0' - 10
5:  addi t1, t1, '0'
    sb t1, 0(t0)
    addi t0, t0, 1
    addi t2, t2, -4
    bgez t2, 4b
    li t1, '\n'
    sb t1, 0(t0)
    addi t0, t0, 1
    lla a1, linebuf
    sub a2, t0, a1
    li a0, 1
    li a7, 64               /* write */
    ecall
    ret

    .section .rodata
    .balign 8
template:
    .word 0x00b52423        /* sw a1, 8(a0) */
    .word 0x0000100f        /* fence.i */
    .word 0x00100513        /* addi a0, zero, 1 */
    .word 0x00008067        /* ret */

    .data
    .balign 8
scratch:
    .dword 0
linebuf:
    .zero 128
