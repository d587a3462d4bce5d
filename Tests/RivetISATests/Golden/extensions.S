# Every instruction form of Zba, Zbb, Zbs, Zicbom, Zicboz and Zihintpause, with the operand
# choices that change how GNU objdump 2.40 prints them (zext.w, the immediate forms it spells
# like the register ones, pause), plus neighbouring encodings it does not know, and Zicond's
# (which binutils 2.40 does not know either: it prints them as .4byte, and so does Rivet's
# listing).
#
# regenerate.sh assembles this into extensions.o (riscv64-linux-gnu-as
# -march=rv64gc_zba_zbb_zbs_zicbom_zicboz_zihintpause, which records those extensions in the
# file's Tag_RISCV_arch attribute: objdump decodes what it names) and records
# `riscv64-linux-gnu-objdump -d extensions.o` in extensions.objdump.
    .option norelax
    .option norvc
    .text
    .globl _start
_start:
zba:
    sh1add a0, a1, a2
    sh2add zero, t0, t1
    sh3add s11, zero, zero
    add.uw a0, a1, a2
    add.uw a0, a1, zero
    zext.w t3, t4
    sh1add.uw a0, a1, a2
    sh2add.uw ra, sp, gp
    sh3add.uw t6, t5, t4
    slli.uw a0, a1, 0
    slli.uw a0, a1, 31
    slli.uw a0, a1, 32
    slli.uw a0, a1, 63
zbb:
    andn a0, a1, a2
    orn a0, a1, a2
    xnor a0, a1, a2
    clz a0, a1
    clzw a0, zero
    ctz s0, s1
    ctzw a0, a1
    cpop a0, a1
    cpopw a0, a1
    max a0, a1, a2
    maxu a0, a1, a2
    min a0, a1, a2
    minu a0, a1, a2
    sext.b a0, a1
    sext.h a0, a1
    zext.h a0, a1
    rol a0, a1, a2
    rolw a0, a1, a2
    ror a0, a1, a2
    rorw a0, a1, a2
    rori a0, a1, 0
    rori a0, a1, 1
    rori a0, a1, 63
    roriw a0, a1, 0
    roriw a0, a1, 31
    orc.b a0, a1
    rev8 a0, a1
zbs:
    bclr a0, a1, a2
    bclri a0, a1, 0
    bclri a0, a1, 63
    bext a0, a1, a2
    bexti a0, a1, 32
    binv a0, a1, a2
    binvi a0, a1, 17
    bset a0, a1, a2
    bseti a0, a1, 31
cbo:
    cbo.clean (a0)
    cbo.flush (zero)
    cbo.inval (t6)
    cbo.zero (sp)
hints:
    pause
    .insn 4, 0x0100000f            # fence w,0 = pause
    .insn 4, 0x0200000f            # fence r,0
    fence w, w
reserved:
    .insn 4, 0x08c5c53b            # packw with rs2 = a2 (Zbkb), not zext.h
    .insn 4, 0x6b95d513            # rev8 with another shift amount
    .insn 4, 0x2885d513            # orc.b with another shift amount
    .insn 4, 0x6035d513            # rori encoding space: funct6 + shamt
    .insn 4, 0x6035951b            # clzw space, rs2 = 3
    .insn 4, 0x0015250f            # cbo.clean with rd = a0
    .insn 4, 0x0035200f            # cbo with imm = 3
    .insn 4, 0x0105200f            # cbo with imm = 16
    .insn 4, 0x0e5755b3            # czero.eqz a1, a4, t0 (Zicond: binutils 2.41)
    .insn 4, 0x0e5775b3            # czero.nez a1, a4, t0
    .insn 4, 0x0100100f            # fence.i space with the pause bits
    .insn 4, 0x0a05c533            # a funct7 of max with funct3 = 4 (min) -> min
    .insn 4, 0x2005e533            # sh3add space: funct7 0x10, funct3 6
    .insn 4, 0x4805d51b            # bexti's encoding in OP-IMM-32
