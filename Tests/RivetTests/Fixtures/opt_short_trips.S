/* A loop that turns hot in its first 200 entries (20,000 iterations each), then is entered
 * 1,500,000 times for one iteration: its tier-2 region is entered and left every few
 * instructions, costs more than the baseline's code, and is removed (demoted). Then long
 * entries again. The sum it prints (and its exit status) must be the interpreter's whichever
 * code runs it. */
    .globl _start
_start:
    li s0, 0            /* k: entries so far */
    li s1, 1500300      /* entries in all */
    li s2, 1            /* the sum */
    li s3, 200          /* the first 200 entries are long */
    li s4, 1500200      /* and the last 100 */
outer:
    li t0, 1
    bge s0, s3, 1f
    li t0, 20000
1:  blt s0, s4, 2f
    li t0, 5000
2:  j header
header:                 /* reached by a jump at every entry */
    slli t1, s2, 1
    add s2, s2, t1
    add s2, s2, t0
    addi t0, t0, -1
    bnez t0, header
    addi s0, s0, 1
    blt s0, s1, outer
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
