# Every RV64IMAFDC + Zicsr + Zifencei instruction form, with the operand choices that change
# how GNU objdump 2.40 prints them (aliases, x0 operands, edge immediates, rounding modes,
# aq/rl bits, CSR names, fence sets), plus encodings objdump does not know.
#
# regenerate.sh assembles this into allforms.o (riscv64-linux-gnu-as -march=rv64gc) and records
# `riscv64-linux-gnu-objdump -d allforms.o` in allforms.objdump. DisassemblerTests compares
# Rivet's listing of allforms.o with that, line for line.
#
# Rules for editing: no relocations (the section is self-contained, .option norelax), and raw
# words only through `.insn` (a `.word` would make objdump print the bytes as data).

    .option norelax
    .text
    .globl _start
_start:

# ---------------------------------------------------------------- RV64I, 32-bit encodings
    .option norvc
upper:
    lui zero, 0
    lui ra, 0
    lui t0, 0xfffff
    lui a0, 0x80000
    lui a1, 0x12345
    auipc zero, 0
    auipc a0, 0x12
    auipc s11, 0xfffff

jumps:
    jal zero, upper
    jal ra, jumps
    jal t0, branches
    jal a0, .+4
    .insn 4, 0x8000006f            # j .-1MiB
    .insn 4, 0x7ffff0ef            # jal .+1MiB-2
    jalr zero, 0(ra)               # ret
    jalr zero, 0(t0)               # jr
    jalr zero, 4(t0)
    jalr ra, 0(t0)                 # jalr rs
    jalr ra, -8(t0)
    jalr t0, 0(t1)
    jalr t0, 2047(t1)
    jalr t0, -2048(t1)
    jalr zero, 0(zero)
    jalr ra, 0(zero)
    jalr ra, 12(zero)
    jalr ra, 16(tp)
    jalr ra, 16(gp)
    .insn 4, 0x00059567            # jalr with funct3 = 1

branches:
    beq a0, zero, branches
    beq zero, a0, branches
    beq zero, zero, branches
    beq a0, a1, branches
    bne a0, zero, branches
    bne zero, a0, branches
    bne a0, a1, branches
    blt a0, zero, branches
    blt zero, a0, branches
    blt zero, zero, branches
    blt a0, a1, branches
    bge a0, zero, branches
    bge zero, a0, branches
    bge zero, zero, branches
    bge a0, a1, branches
    bltu a0, zero, branches
    bltu zero, a0, branches
    bltu a0, a1, loads
    bgeu a0, zero, loads
    bgeu zero, a0, loads
    bgeu a0, a1, loads
    .insn 4, 0x80b50063            # beq a0,a1,.-4096
    .insn 4, 0x7e051fe3            # bne a0,zero,.+4094

loads:
    lb a0, 0(a1)
    lh a0, -1(a1)
    lw a0, 2047(a1)
    ld a0, -2048(a1)
    lbu zero, 8(sp)
    lhu s11, 16(s0)
    lwu t6, 24(t5)
    ld a0, 16(zero)
    ld a0, 16(tp)
    ld a0, 16(gp)
stores:
    sb a0, 0(a1)
    sh zero, -1(a1)
    sw a0, 2047(sp)
    sd ra, -2048(s0)
    sd a0, 8(zero)
    sd a0, 8(tp)
    sd a0, 8(gp)

immediates:
    addi zero, zero, 0             # nop
    addi a0, zero, 0               # li
    addi a0, zero, -2048
    addi zero, zero, 5
    addi a0, a1, 0                 # mv
    addi zero, a0, 0
    addi sp, sp, -16
    addi a0, a1, 2047
    addi zero, a0, 5
    addi a0, tp, 16
    slti a0, a1, -1
    slti a0, zero, 1
    sltiu a0, a1, 1                # seqz
    sltiu a0, zero, 1
    sltiu a0, a1, -1
    xori a0, a1, -1                # not
    xori a0, a1, 1
    xori zero, zero, 0
    ori a0, a1, 0
    ori a0, a1, -2048
    andi a0, a1, 255               # zext.b
    andi a0, a1, -1
    andi a0, a1, 254
    slli a0, a1, 0
    slli a0, a1, 63
    srli a0, a1, 1
    srli a0, a1, 32
    srai a0, a1, 0
    srai a0, a1, 63
    .insn 4, 0x44059513            # slli with a nonzero funct6
registers:
    add a0, a1, a2
    add a0, zero, a1
    add a0, a1, zero
    sub a0, a1, a2
    sub a0, zero, a1               # neg
    sub zero, zero, zero
    sll a0, a1, a2
    slt a0, a1, a2
    slt a0, a1, zero               # sltz
    slt a0, zero, a1               # sgtz
    slt a0, zero, zero
    sltu a0, a1, a2
    sltu a0, zero, a1              # snez
    sltu a0, a1, zero
    xor a0, a1, a2
    srl a0, a1, a2
    sra a0, a1, a2
    or a0, zero, a1
    and a0, a1, a2
words:
    addiw a0, a1, 0                # sext.w
    addiw zero, a1, 0
    addiw a0, zero, 0
    addiw a0, a1, -5
    addiw a0, zero, 16
    addiw a0, tp, 4
    slliw a0, a1, 0
    slliw a0, a1, 31
    srliw a0, a1, 1
    sraiw a0, a1, 31
    addw a0, a1, a2
    addw a0, zero, a1
    subw a0, a1, a2
    subw a0, zero, a1              # negw
    sllw a0, a1, a2
    srlw a0, a1, a2
    sraw a0, a1, a2

system:
    fence iorw, iorw
    fence rw, rw
    fence r, r
    fence w, w
    fence i, o
    fence ir, ow
    fence iow, iorw
    fence o, i
    .insn 4, 0x0000000f            # fence with empty sets
    .insn 4, 0x0010000f
    .insn 4, 0x0f00000f
    fence.tso
    .insn 4, 0x8ff0000f            # fm = 8 with iorw,iorw
    .insn 4, 0x1ff0000f            # fm = 1
    .insn 4, 0x0ff0008f            # rd != 0
    .insn 4, 0x0ff0800f            # rs1 != 0
    ecall
    ebreak
    fence.i
    .insn 4, 0x0010100f            # fence.i with a nonzero immediate
    .insn 4, 0x0000108f            # fence.i with rd != 0
privileged:
    # Not RV64GC user code (the decoder rejects them), but objdump knows them.
    .insn 4, 0x00200073            # uret
    .insn 4, 0x10200073            # sret
    .insn 4, 0x20200073            # hret
    .insn 4, 0x30200073            # mret
    .insn 4, 0x7b200073            # dret
    .insn 4, 0x10500073            # wfi
    .insn 4, 0x10400073            # sfence.vm
    .insn 4, 0x10458073            # sfence.vm a1
    .insn 4, 0x12000073            # sfence.vma
    .insn 4, 0x12058073            # sfence.vma a1
    .insn 4, 0x12b00073            # sfence.vma zero,a1
    .insn 4, 0x12a58073            # sfence.vma a1,a0
    .insn 4, 0x10400573            # sfence.vm with rd != 0

# ---------------------------------------------------------------- Zicsr
csrs:
    .irp csr, fflags, frm, fcsr, cycle, time, instret, cycleh, mstatus, 0x7ff, 0xfff
    csrrw zero, \csr, zero
    csrrw zero, \csr, a1
    csrrw a0, \csr, zero
    csrrw a0, \csr, a1
    csrrs zero, \csr, zero
    csrrs zero, \csr, a1
    csrrs a0, \csr, zero
    csrrs a0, \csr, a1
    csrrc zero, \csr, zero
    csrrc zero, \csr, a1
    csrrc a0, \csr, zero
    csrrc a0, \csr, a1
    csrrwi zero, \csr, 0
    csrrwi zero, \csr, 31
    csrrwi a0, \csr, 0
    csrrwi a0, \csr, 11
    csrrsi zero, \csr, 0
    csrrsi zero, \csr, 1
    csrrsi a0, \csr, 0
    csrrsi a0, \csr, 11
    csrrci zero, \csr, 0
    csrrci zero, \csr, 1
    csrrci a0, \csr, 0
    csrrci a0, \csr, 11
    .endr
every_csr:
    # Every CSR number: objdump's names (for this file's privileged spec, 1.11) or 0x...
    .set csr_number, 0
    .rept 4096
    csrrs a0, csr_number, a1
    .set csr_number, csr_number + 1
    .endr

# ---------------------------------------------------------------- M
multiply:
    mul a0, a1, a2
    mulh a0, a1, a2
    mulhsu a0, a1, a2
    mulhu a0, a1, a2
    div a0, a1, a2
    divu a0, a1, a2
    rem a0, a1, a2
    remu a0, a1, a2
    mulw a0, a1, a2
    divw a0, a1, a2
    divuw a0, a1, a2
    remw zero, zero, zero
    remuw t6, s11, t3

# ---------------------------------------------------------------- A
atomics:
    .irp order, , .aq, .rl, .aqrl
    lr.w\order a0, (a1)
    sc.w\order a0, a2, (a1)
    amoswap.w\order a0, a2, (a1)
    amoadd.w\order a0, a2, (a1)
    amoxor.w\order a0, a2, (a1)
    amoand.w\order a0, a2, (a1)
    amoor.w\order a0, a2, (a1)
    amomin.w\order a0, a2, (a1)
    amomax.w\order a0, a2, (a1)
    amominu.w\order a0, a2, (a1)
    amomaxu.w\order a0, a2, (a1)
    lr.d\order a0, (a1)
    sc.d\order a0, a2, (a1)
    amoswap.d\order a0, a2, (a1)
    amoadd.d\order a0, a2, (a1)
    amoxor.d\order a0, a2, (a1)
    amoand.d\order a0, a2, (a1)
    amoor.d\order a0, a2, (a1)
    amomin.d\order a0, a2, (a1)
    amomax.d\order a0, a2, (a1)
    amominu.d\order a0, a2, (a1)
    amomaxu.d\order a0, a2, (a1)
    .endr
    amoswap.w zero, zero, (zero)
    .insn 4, 0x1055a52f            # lr.w with rs2 != 0

# ---------------------------------------------------------------- F and D
float:
    flw fa0, 0(a1)
    flw ft0, -2048(sp)
    fsw fa0, 2047(a1)
    flw fa0, 4(tp)
    fld fs11, 8(s0)
    fsd ft11, -8(s0)
    fsd fa0, 16(zero)
    .irp p, s, d
    fmadd.\p fa0, fa1, fa2, fa3
    fmsub.\p fa0, fa1, fa2, fa3, rne
    fnmsub.\p fa0, fa1, fa2, fa3, rtz
    fnmadd.\p fa0, fa1, fa2, fa3, rmm
    fadd.\p fa0, fa1, fa2
    fadd.\p fa0, fa1, fa2, rne
    fadd.\p fa0, fa1, fa2, rtz
    fadd.\p fa0, fa1, fa2, rdn
    fadd.\p fa0, fa1, fa2, rup
    fadd.\p fa0, fa1, fa2, rmm
    fadd.\p fa0, fa1, fa2, dyn
    fsub.\p ft0, ft1, ft2, rdn
    fmul.\p fs0, fs1, fs2
    fdiv.\p ft8, ft9, ft10, rup
    fsqrt.\p fa0, fa1
    fsqrt.\p fa0, fa1, rtz
    fsgnj.\p fa0, fa1, fa2
    fsgnj.\p fa0, fa1, fa1         # fmv
    fsgnjn.\p fa0, fa1, fa2
    fsgnjn.\p fa0, fa1, fa1        # fneg
    fsgnjx.\p fa0, fa1, fa2
    fsgnjx.\p fa0, fa1, fa1        # fabs
    fmin.\p fa0, fa1, fa2
    fmax.\p fa0, fa1, fa2
    fcvt.w.\p a0, fa1
    fcvt.w.\p a0, fa1, rtz
    fcvt.wu.\p a0, fa1, rne
    fcvt.l.\p a0, fa1
    fcvt.lu.\p zero, ft0, rmm
    fclass.\p a0, fa1
    feq.\p a0, fa1, fa2
    flt.\p a0, fa1, fa2
    fle.\p zero, ft0, ft11
    fcvt.\p\().w fa0, a1
    fcvt.\p\().wu fa0, a1
    fcvt.\p\().l fa0, a1, rdn
    fcvt.\p\().lu fa0, zero
    .endr
    fcvt.s.w fa0, a1, rup
    fcvt.s.wu fa0, a1, rtz
    fmv.x.w a0, fa1
    fmv.w.x fa0, a1
    fmv.x.d a0, fa1
    fmv.d.x fa0, a1
    fcvt.s.d fa0, fa1
    fcvt.s.d fa0, fa1, rtz
    fcvt.d.s fa0, fa1
    .insn 4, 0x00c5d553            # fadd.s with rounding mode 5
    .insn 4, 0x6ac5e543            # fmadd.d with rounding mode 6
    .insn 4, 0x5a05d553            # fsqrt.d, rm 5
    .insn 4, 0xc205e553            # fcvt.w.d, rm 6
    .insn 4, 0xd225d553            # fcvt.d.l, rm 5
    .insn 4, 0x4015e553            # fcvt.s.d, rm 6
    .insn 4, 0x42059553            # fcvt.d.s, rm 1: objdump knows only rm 0
    .insn 4, 0x4205d553            # fcvt.d.s, rm 5
    .insn 4, 0xd205f553            # fcvt.d.w, rm 7
    .insn 4, 0xd215a553            # fcvt.d.wu, rm 2
    .insn 4, 0xe2059553            # fmv.x.d with funct3 = 1

# ---------------------------------------------------------------- address comments
addresses:
    auipc a0, 0x12
    addi a0, a0, 16
    addi a0, a0, 16                # used up
    auipc a1, 0
    ld a2, 8(a1)
    lui a0, 0x12
    add a0, a1, a2                 # objdump keeps the pending high part
    addi a1, a0, 4
    lui a0, 0x80000
    addiw a0, a0, -1               # 32-bit wrap
    lui t0, 0x12
    jalr ra, 8(t0)
    auipc t1, 0x1
    jalr zero, 0(t1)
    auipc s0, 0
    addi a0, s0, 0                 # mv does not look
    sw a0, 4(s0)
    lui s1, 1
    fsd fa0, -8(s1)
    lui a3, 0x10
    addiw a3, a3, 0                # sext.w does not look
    lui a4, 0xfffff
    addi a4, a4, -1                # negative high part
    auipc a5, 0xfffff
    ld a5, -8(a5)

# ---------------------------------------------------------------- illegal 32-bit words
illegal:
    .insn 4, 0x00007003            # load, funct3 = 7
    .insn 4, 0x0000302b            # custom-1
    .insn 4, 0xfe000033            # OP, funct7 = 0x7f
    .insn 4, 0x0000707b            # custom-3
    unimp                          # csrrw zero,cycle,zero
    .insn 6, 0x00000000001f        # 48-bit prefix
    .insn 8, 0x000000000000003f    # 64-bit prefix
    .insn 10, 0x0000000000000000007f  # 80-bit prefix

# ---------------------------------------------------------------- C
    .option rvc
compressed:
    c.addi4spn s0, sp, 4
    c.addi4spn a5, sp, 1020
    c.fld fs0, 0(s0)
    c.fld fa5, 248(a5)
    c.lw a0, 0(a1)
    c.lw s1, 124(a5)
    c.ld a0, 8(a1)
    c.ld a5, 248(s0)
    c.fsd fa0, 8(a1)
    c.sw a0, 4(a1)
    c.sd a0, 248(a1)
    c.nop
    c.addi a0, 1
    c.addi a0, -32
    c.addi sp, 31
    c.addiw a0, 0
    c.addiw a0, -1
    c.addiw t6, 31
    c.li a0, 0
    c.li a0, -32
    c.li t6, 31
    c.addi16sp sp, -512
    c.addi16sp sp, 496
    c.addi16sp sp, 16
    c.lui a0, 1
    c.lui a0, 0x1f
    c.lui t6, 0xfffe0
    c.lui s0, 0xfffff
    c.srli a0, 1
    c.srli s0, 63
    c.srai a5, 32
    c.andi a0, -32
    c.andi s1, 31
    c.andi a0, 0
    c.sub a0, a1
    c.xor s0, s1
    c.or a4, a5
    c.and a0, a0
    c.subw a0, a1
    c.addw a5, s0
c_jumps:
    c.j c_jumps
    c.j .+2046
    c.j .-2048
    c.beqz a0, c_jumps
    c.beqz s0, .+254
    c.bnez a5, .-256
    c.slli a0, 1
    c.slli t6, 63
    c.slli ra, 32
    c.fldsp fa0, 0(sp)
    c.fldsp ft11, 504(sp)
    c.lwsp a0, 252(sp)
    c.lwsp ra, 4(sp)
    c.ldsp a0, 504(sp)
    c.ldsp ra, 8(sp)
    c.jr ra                        # ret
    c.jr a0
    c.mv a0, a1
    c.mv ra, ra
    c.ebreak
    c.jalr a0
    c.jalr ra
    c.add a0, a1
    c.add ra, ra
    c.fsdsp fa0, 504(sp)
    c.swsp a0, 252(sp)
    c.swsp zero, 0(sp)
    c.sdsp ra, 8(sp)
    c.sdsp a0, 504(sp)
hints:
    .insn 2, 0x0015                # c.nop 5
    .insn 2, 0x0501                # c.addi a0,0
    .insn 2, 0x4015                # c.li zero,5
    .insn 2, 0x6005                # c.lui zero,1
    .insn 2, 0x0006                # c.slli zero,1
    .insn 2, 0x0502                # c.slli64 a0
    .insn 2, 0x0002                # c.slli64 zero
    .insn 2, 0x8001                # c.srli64 s0
    .insn 2, 0x8401                # c.srai64 s0
    .insn 2, 0x8006                # c.mv zero,ra
    .insn 2, 0x9006                # c.add zero,ra
c_addresses:
    c.lui a0, 1
    c.addi a0, 8
    c.lui a0, 2
    c.addiw a0, 8
    c.lui a0, 0xfffe0
    c.addi a0, -1
    c.lui a1, 3
    c.ld a2, 8(a1)                 # compressed loads do not look
    c.jr a1
    .insn 2, 0x0211                # c.addi tp,4
    .insn 2, 0x2211                # c.addiw tp,4
reserved:
    .insn 2, 0x0000                # unimp
    .insn 2, 0x0004                # c.addi4spn with a zero immediate
    .insn 2, 0x8000                # quadrant 0, funct3 = 4
    .insn 2, 0x2001                # c.addiw zero
    .insn 2, 0x6001                # c.lui zero,0
    .insn 2, 0x6081                # c.lui ra,0
    .insn 2, 0x6101                # c.addi16sp sp,0
    .insn 2, 0x9c41                # reserved arithmetic
    .insn 2, 0x9c61
    .insn 2, 0x4002                # c.lwsp zero
    .insn 2, 0x6002                # c.ldsp zero
    .insn 2, 0x8002                # c.jr zero
zeros:
    # Twelve zero bytes print as "..." (eight), then two unimp.
    .rept 6
    .insn 2, 0x0000
    .endr
    c.nop
    # Two zero bytes before a symbol are skipped.
    .insn 2, 0x0000
after_zeros:
    .option norvc
    ret
