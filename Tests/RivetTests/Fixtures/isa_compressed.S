/* RV64C: every compressed instruction form, written with explicit c. mnemonics so the
 * assembler cannot choose another encoding: quadrant 0 (c.addi4spn, c.fld, c.lw, c.ld, c.fsd,
 * c.sw, c.sd), quadrant 1 (c.nop and a HINT, c.addi, c.addiw, c.li, c.addi16sp, c.lui, c.srli,
 * c.srai, c.andi, c.sub, c.xor, c.or, c.and, c.subw, c.addw, c.j, c.beqz, c.bnez), quadrant 2
 * (c.slli, c.fldsp, c.lwsp, c.ldsp, c.jr, c.mv, c.jalr with its pc+2 link, c.add, c.fsdsp,
 * c.swsp, c.sdsp) and finally c.ebreak, which ends the program with SIGTRAP (status 133).
 * Also a 32-bit instruction straddling a page boundary after a run of compressed ones.
 * No libc: results are printed with raw write syscalls. */
    .option rvc
    .option norelax         /* no crt sets gp: keep lla pc-relative */

/* Prints "TEXT <reg in hex>\n". Clobbers a0, a1, t0-t3 and ra. */
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
    /* Integer constants and register-register forms (a0-a5 and s0, s1 are the x8-x15 set). */
    c.li a0, -32
    SHOW a0, "c.li -32"
    c.li a0, 31
    SHOW a0, "c.li 31"
    c.lui a0, 1
    SHOW a0, "c.lui 1"
    c.lui a0, 0x1f
    SHOW a0, "c.lui 0x1f"
    c.lui a0, 0xfffe0
    SHOW a0, "c.lui 0xfffe0"
    c.li a0, 5
    c.addi a0, -32
    SHOW a0, "c.addi -32"
    c.addi a0, 31
    SHOW a0, "c.addi 31"
    li s0, 0x7fffffff
    c.addiw s0, 1
    SHOW s0, "c.addiw overflow"
    li s0, 0x123456789abcdef0
    c.addiw s0, 0
    SHOW s0, "c.addiw 0 (sext.w)"
    li s0, 0xffffffff
    c.addiw s0, -1
    SHOW s0, "c.addiw -1"
    li a1, 0x0123456789abcdef
    c.mv a0, a1
    SHOW a0, "c.mv"
    li a0, 0x1000000000000001
    c.add a0, a1
    SHOW a0, "c.add"
    li a0, 5
    c.sub a0, a1
    SHOW a0, "c.sub"
    li a0, 0xff00ff00ff00ff00
    c.xor a0, a1
    SHOW a0, "c.xor"
    li a0, 0xff00ff00ff00ff00
    c.or a0, a1
    SHOW a0, "c.or"
    li a0, 0xff00ff00ff00ff00
    c.and a0, a1
    SHOW a0, "c.and"
    li s1, 0x7fffffff
    li a2, 0xffffffff00000001
    c.addw s1, a2
    SHOW s1, "c.addw"
    li s1, 0x0000000180000000
    li a2, 1
    c.subw s1, a2
    SHOW s1, "c.subw"
    li a3, 0xfedcba9876543210
    c.andi a3, -32
    SHOW a3, "c.andi -32"
    li a3, 0xfedcba9876543210
    c.andi a3, 15
    SHOW a3, "c.andi 15"
    li a4, 0x8000000000000081
    c.srli a4, 1
    SHOW a4, "c.srli 1"
    li a4, 0x8000000000000081
    c.srli a4, 32
    SHOW a4, "c.srli 32"
    li a4, 0x8000000000000081
    c.srli a4, 63
    SHOW a4, "c.srli 63"
    li a5, 0x8000000000000081
    c.srai a5, 1
    SHOW a5, "c.srai 1"
    li a5, 0x8000000000000081
    c.srai a5, 31
    SHOW a5, "c.srai 31"
    li a5, 0x8000000000000081
    c.srai a5, 63
    SHOW a5, "c.srai 63"
    li t3, 0x8000000000000081
    c.slli t3, 1
    SHOW t3, "c.slli 1"
    li t3, 0x8000000000000081
    c.slli t3, 32
    SHOW t3, "c.slli 32"
    li t3, 0x0000000000000081
    c.slli t3, 63
    SHOW t3, "c.slli 63"

    /* c.nop and a HINT (c.addi x0, 1) change nothing. */
    li a0, 77
    c.nop
    .hword 0x0005
    SHOW a0, "c.nop/hint"

    /* Stack-pointer forms. */
    mv s0, sp
    c.addi16sp sp, -512
    sub a0, sp, s0
    SHOW a0, "c.addi16sp -512"
    c.addi16sp sp, 496
    sub a0, sp, s0
    SHOW a0, "c.addi16sp +496"
    c.addi16sp sp, -496
    c.addi4spn a0, sp, 1020
    sub a0, a0, sp
    SHOW a0, "c.addi4spn 1020"
    c.addi4spn a0, sp, 4
    sub a0, a0, sp
    SHOW a0, "c.addi4spn 4"

    li t5, 0x8765432180000001
    c.swsp t5, 0(sp)
    c.swsp t5, 252(sp)
    c.sdsp t5, 8(sp)
    c.sdsp t5, 504(sp)
    c.lwsp t6, 0(sp)
    SHOW t6, "c.swsp/c.lwsp 0"
    c.lwsp t6, 252(sp)
    SHOW t6, "c.swsp/c.lwsp 252"
    c.ldsp t6, 8(sp)
    SHOW t6, "c.sdsp/c.ldsp 8"
    c.ldsp t6, 504(sp)
    SHOW t6, "c.sdsp/c.ldsp 504"
    lw t6, 4(sp)
    SHOW t6, "c.swsp width"
    fmv.d.x ft0, t5
    c.fsdsp ft0, 16(sp)
    c.fsdsp ft0, 496(sp)
    c.fldsp ft1, 16(sp)
    fmv.x.d t6, ft1
    SHOW t6, "c.fsdsp/c.fldsp 16"
    c.fldsp ft1, 496(sp)
    fmv.x.d t6, ft1
    SHOW t6, "c.fsdsp/c.fldsp 496"
    c.addi16sp sp, 496
    c.addi16sp sp, 16
    sub a0, sp, s0
    SHOW a0, "sp restored"

    /* Register-based loads and stores. */
    lla a2, data
    li a3, 0x00000000ffff8001
    c.sw a3, 0(a2)
    c.sw a3, 124(a2)
    c.lw a4, 0(a2)
    SHOW a4, "c.sw/c.lw 0"
    c.lw a4, 124(a2)
    SHOW a4, "c.sw/c.lw 124"
    li a3, 0xa5a5a5a55a5a5a5a
    c.sd a3, 8(a2)
    c.sd a3, 248(a2)
    c.ld a4, 8(a2)
    SHOW a4, "c.sd/c.ld 8"
    c.ld a4, 248(a2)
    SHOW a4, "c.sd/c.ld 248"
    fmv.d.x fa0, a3
    c.fsd fa0, 16(a2)
    c.fsd fa0, 240(a2)
    c.fld fa1, 16(a2)
    fmv.x.d a4, fa1
    SHOW a4, "c.fsd/c.fld 16"
    c.fld fa1, 240(a2)
    fmv.x.d a4, fa1
    SHOW a4, "c.fsd/c.fld 240"
    lla a2, words
    c.lw a4, 0(a2)
    SHOW a4, "c.lw sign"
    c.ld a4, 8(a2)
    SHOW a4, "c.ld"

    /* Control transfer. */
    li s1, 0
    c.j 1f
    addi s1, s1, 1          /* skipped */
1:  c.li a0, 0
    c.beqz a0, 2f
    addi s1, s1, 2          /* skipped */
2:  c.li a0, -1
    c.beqz a0, 3f
    addi s1, s1, 4          /* runs */
3:  c.bnez a0, 4f
    addi s1, s1, 8          /* skipped */
4:  c.li a0, 0
    c.bnez a0, 5f
    addi s1, s1, 16         /* runs */
5:  j 7f
6:  addi s1, s1, 32         /* runs, reached by the backward c.j */
    c.j 8f
7:  c.j 6b
8:  SHOW s1, "c.j/c.beqz/c.bnez"

    lla a2, 9f
    c.jr a2
    addi s1, s1, 64         /* skipped */
9:  SHOW s1, "c.jr"

    lla t0, 10f
    c.jalr t0
11: c.j 12f
10: lla t1, 11b
    sub a0, ra, t1          /* 0: the link is the c.jalr's pc + 2 */
    SHOW a0, "c.jalr link"
    lla ra, 11b
    c.jr ra
12:

    /* A 32-bit instruction at offset 0xffe of a page, after a run of compressed ones. */
    li a0, 1
    li a1, 2
    lla t0, straddle
    jr t0

    .section .rodata
    .balign 8
words:
    .word 0x80000000, 0
    .dword 0x8000000000000000

    .data
    .balign 8
data:
    .zero 256
linebuf:
    .zero 128

    .text
/* show(a0 = value, a1 = text). */
show:
    addi sp, sp, -16
    sd a2, 0(sp)
    sd a7, 8(sp)
    lla t0, linebuf
1:  lbu t1, 0(a1)
    beqz t1, 2f
    sb t1, 0(t0)
    addi a1, a1, 1
    addi t0, t0, 1
    j 1b
2:  li t1, ' '
    sb t1, 0(t0)
    addi t0, t0, 1
    li t2, 60
3:  srl t1, a0, t2
    andi t1, t1, 15
    li t3, 10
    blt t1, t3, 4f
    addi t1, t1, 'a' - '0' - 10
4:  addi t1, t1, '0'
    sb t1, 0(t0)
    addi t0, t0, 1
    addi t2, t2, -4
    bgez t2, 3b
    li t1, '\n'
    sb t1, 0(t0)
    addi t0, t0, 1
    lla a1, linebuf
    sub a2, t0, a1
    li a0, 1
    li a7, 64               /* write */
    ecall
    ld a2, 0(sp)
    ld a7, 8(sp)
    addi sp, sp, 16
    ret

    .balign 4096
    .rept 2046
    c.nop
    .endr
straddle:
    c.addi a0, 1
    .option push
    .option norvc
    addi a0, a1, 1000       /* bytes 0xffe..0x1001 of the page pair */
    .option pop
    c.addi a0, 3
    SHOW a0, "straddle"
    c.ebreak
