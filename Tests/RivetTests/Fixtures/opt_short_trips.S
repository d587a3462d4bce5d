/* A loop made hot by long entries (20,000 iterations), then entered a million times for one
 * iteration, five rounds over: its tier-2 region (compiled in the background, installed in
 * whichever round it is ready) is entered and left every few instructions in the short
 * phases, costs more than the baseline's code, and is removed (demoted). The sum it prints
 * (and its exit status) must be the interpreter's whichever code runs it. */
    .globl _start
_start:
    li s2, 1            /* the sum */
    li s5, 5            /* rounds */
round:
    li s0, 0            /* entries in this round */
    li s3, 50           /* the first 50 are long */
    li s1, 1000050      /* entries in a round */
outer:
    li t0, 1
    bge s0, s3, 2f
    li t0, 20000
2:  fence r, r         /* tier 2 models no fence: no region takes this block, so none */
    j header            /* wraps the loop below and runs its short entries inside */
header:                 /* reached by a jump at every entry */
    slli t1, s2, 1
    add s2, s2, t1
    add s2, s2, t0
    addi t0, t0, -1
    bnez t0, header
    addi s0, s0, 1
    blt s0, s1, outer
    addi s5, s5, -1
    bnez s5, round
    /* The sum in 16 hex digits and a newline, then exit(sum & 0x7f). */
    addi sp, sp, -32
    li t2, 60
    mv t3, sp
3:  srl t4, s2, t2
    andi t4, t4, 15
    li t5, 10
    blt t4, t5, 4f
    addi t4, t4, 87     /* 'a' - 10 */
    j 5f
4:  addi t4, t4, 48     /* '0' */
5:  sb t4, 0(t3)
    addi t3, t3, 1
    addi t2, t2, -4
    bgez t2, 3b
    li t4, 10
    sb t4, 0(t3)
    li a0, 1
    mv a1, sp
    li a2, 17
    li a7, 64
    ecall
    andi a0, s2, 0x7f
    li a7, 93
    ecall
