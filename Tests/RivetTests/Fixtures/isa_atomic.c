/* RV64A: LR/SC success and failure (no reservation, another address, a second SC after a
 * successful one), lr.w sign extension, sc.w storing only 32 bits; every AMO in .w and .d on
 * value pairs that separate signed from unsigned min/max, with the old value sign-extended for
 * .w and the neighbouring word left alone; aq/rl variants, rd = x0 and rd = rs2. */
#include <stdint.h>
#include <stdio.h>

typedef uint64_t u64;

static char line[1024];
static int used;

static void put(const char *s) { while (*s) line[used++] = *s++; }
static void hex(u64 v) {
    static const char digits[] = "0123456789abcdef";
    line[used++] = ' ';
    for (int k = 60; k >= 0; k -= 4) line[used++] = digits[(v >> k) & 15];
}
static void endline(void) {
    line[used++] = '\n';
    line[used] = 0;
    fputs(line, stdout);
    used = 0;
}

/* mem[1] is the target; mem[0] and mem[2] are guards. */
static volatile u64 mem[3] __attribute__((aligned(16)));

static const u64 vals[] = {
    0, 1, 0xffffffffffffffff, 0x000000007fffffff, 0x0000000080000000, 0xffffffff80000000,
    0x8000000000000000, 0x7fffffffffffffff, 0x00000005fffffffe, 0xfffffff300000003,
};
#define NV (sizeof vals / sizeof vals[0])

#define AMO(op, init, operand)                                                        \
    do {                                                                              \
        mem[0] = 0x1111111111111111; mem[1] = (init); mem[2] = 0x2222222222222222;    \
        u64 _old;                                                                     \
        asm volatile(op " %0, %1, (%2)" : "=r"(_old) : "r"((u64)(operand)), "r"(&mem[1]) : "memory"); \
        hex(_old); hex(mem[1]);                                                       \
        if (mem[0] != 0x1111111111111111 || mem[2] != 0x2222222222222222) put(" GUARD");  \
    } while (0)

#define TEST(op)                                                      \
    do {                                                              \
        for (unsigned i = 0; i < NV; i++) {                           \
            put(op);                                                  \
            for (unsigned j = 0; j < NV; j++) AMO(op, vals[i], vals[j]); \
            endline();                                                \
        }                                                             \
    } while (0)

static void lrsc(void) {
    u64 v, fail, addr2;
    volatile u64 other = 5;

    /* A successful pair, lr.w sign-extending the loaded word. */
    mem[1] = 0x1234567880000000;
    asm volatile("lr.w %0, (%2)\n\tsc.w %1, %3, (%2)" : "=&r"(v), "=&r"(fail)
                 : "r"(&mem[1]), "r"((u64)0xaaaaaaaabbbbbbbb) : "memory");
    put("lr.w/sc.w ok"); hex(v); hex(fail); hex(mem[1]); endline();

    mem[1] = 0x8000000000000001;
    asm volatile("lr.d %0, (%2)\n\tsc.d %1, %3, (%2)" : "=&r"(v), "=&r"(fail)
                 : "r"(&mem[1]), "r"((u64)0x0102030405060708) : "memory");
    put("lr.d/sc.d ok"); hex(v); hex(fail); hex(mem[1]); endline();

    /* A second SC after a successful one fails: the reservation is gone. */
    mem[1] = 7;
    asm volatile("lr.d %0, (%2)\n\tsc.d %1, %3, (%2)\n\tsc.d %1, %4, (%2)" : "=&r"(v), "=&r"(fail)
                 : "r"(&mem[1]), "r"((u64)8), "r"((u64)9) : "memory");
    put("second sc.d"); hex(v); hex(fail); hex(mem[1]); endline();

    /* SC to an address other than the reserved one fails and stores nothing. */
    mem[1] = 7;
    asm volatile("lr.d %0, (%2)\n\tsc.d %1, %4, (%3)" : "=&r"(v), "=&r"(fail)
                 : "r"(&mem[1]), "r"(&other), "r"((u64)9) : "memory");
    put("sc.d other"); hex(v); hex(fail); hex(mem[1]); hex(other); endline();

    /* Ordering bits. */
    mem[1] = 0xfffffffe;
    asm volatile("lr.w.aq %0, (%2)\n\tsc.w.rl %1, %3, (%2)" : "=&r"(v), "=&r"(fail)
                 : "r"(&mem[1]), "r"((u64)3) : "memory");
    put("lr.w.aq/sc.w.rl"); hex(v); hex(fail); hex(mem[1]); endline();
    mem[1] = 0xfffffffe;
    asm volatile("lr.d.aqrl %0, (%2)\n\tsc.d.aqrl %1, %3, (%2)" : "=&r"(v), "=&r"(fail)
                 : "r"(&mem[1]), "r"((u64)3) : "memory");
    put("lr.d.aqrl/sc.d.aqrl"); hex(v); hex(fail); hex(mem[1]); endline();

    /* A retry loop as compilers emit for compare-and-swap. */
    mem[1] = 40;
    asm volatile("1:\tlr.d %0, (%1)\n\taddi %0, %0, 2\n\tsc.d t0, %0, (%1)\n\tbnez t0, 1b"
                 : "=&r"(v) : "r"(&mem[1]) : "t0", "memory");
    put("cas loop"); hex(v); hex(mem[1]); endline();

    /* sc.w on the upper word of a reserved doubleword address fails too. */
    mem[1] = 0;
    addr2 = (u64)&mem[1] + 4;
    asm volatile("lr.d %0, (%2)\n\tsc.w %1, %4, (%3)" : "=&r"(v), "=&r"(fail)
                 : "r"(&mem[1]), "r"(addr2), "r"((u64)1) : "memory");
    put("sc.w +4"); hex(fail); hex(mem[1]); endline();
}

static void forms(void) {
    u64 r = 0x55;
    mem[1] = 10;
    /* rd = x0: only memory changes. */
    asm volatile("amoadd.d zero, %0, (%1)" : : "r"((u64)5), "r"(&mem[1]) : "memory");
    put("amoadd.d x0"); hex(mem[1]); endline();
    /* rd = rs2: the operand is read before rd is written. */
    asm volatile("amoswap.d %0, %0, (%1)" : "+r"(r) : "r"(&mem[1]) : "memory");
    put("amoswap.d rd=rs2"); hex(r); hex(mem[1]); endline();
    r = 0xffffffff00000001;
    asm volatile("amoadd.w.aqrl %0, %0, (%1)" : "+r"(r) : "r"(&mem[1]) : "memory");
    put("amoadd.w.aqrl rd=rs2"); hex(r); hex(mem[1]); endline();
    asm volatile("amoor.w.aq %0, %1, (%2)" : "=r"(r) : "r"((u64)0x80000000), "r"(&mem[1]) : "memory");
    put("amoor.w.aq"); hex(r); hex(mem[1]); endline();
    asm volatile("amoxor.d.rl %0, %1, (%2)" : "=r"(r) : "r"((u64)-1), "r"(&mem[1]) : "memory");
    put("amoxor.d.rl"); hex(r); hex(mem[1]); endline();
}

int main(void) {
    lrsc();
    forms();
    TEST("amoswap.w"); TEST("amoadd.w"); TEST("amoxor.w"); TEST("amoand.w"); TEST("amoor.w");
    TEST("amomin.w"); TEST("amomax.w"); TEST("amominu.w"); TEST("amomaxu.w");
    TEST("amoswap.d"); TEST("amoadd.d"); TEST("amoxor.d"); TEST("amoand.d"); TEST("amoor.d");
    TEST("amomin.d"); TEST("amomax.d"); TEST("amominu.d"); TEST("amomaxu.d");
    return 0;
}
