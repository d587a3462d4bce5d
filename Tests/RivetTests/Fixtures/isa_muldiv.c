/* RV64M: every multiply and divide on operands chosen for the edges: the signs of mulh,
 * mulhsu and mulhu, division by zero and the INT_MIN / -1 overflow for div, divu, rem, remu
 * and their *W forms (which must also sign-extend 32-bit results), and operands whose upper
 * halves the *W forms must ignore. Every result is printed in hex. */
#include <stdint.h>
#include <stdio.h>

typedef uint64_t u64;

static const u64 vals[] = {
    0, 1, 0xffffffffffffffff, 2, 0xfffffffffffffffe, 7, 0xfffffffffffffff9,
    0x000000007fffffff, 0x0000000080000000, 0xffffffff80000000, 0x00000001ffffffff,
    0x8000000000000000, 0x7fffffffffffffff, 0x0123456789abcdef, 0xfedcba9876543210,
};
#define NV (sizeof vals / sizeof vals[0])

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

#define RR(op, a, b) ({ u64 _r; asm volatile(op " %0, %1, %2" : "=r"(_r) : "r"((u64)(a)), "r"((u64)(b))); _r; })

#define TEST(op)                                                      \
    do {                                                              \
        for (unsigned i = 0; i < NV; i++) {                           \
            put(op);                                                  \
            for (unsigned j = 0; j < NV; j++) hex(RR(op, vals[i], vals[j])); \
            endline();                                                \
        }                                                             \
    } while (0)

int main(void) {
    TEST("mul"); TEST("mulh"); TEST("mulhsu"); TEST("mulhu");
    TEST("div"); TEST("divu"); TEST("rem"); TEST("remu");
    TEST("mulw"); TEST("divw"); TEST("divuw"); TEST("remw"); TEST("remuw");
    /* rd aliasing a source: the result must use the old operand values. */
    u64 a = 0x8000000000000000, b = 0xffffffffffffffff, c = 0x123456789, d = 0;
    asm volatile("div %0, %0, %1" : "+r"(a) : "r"(b));
    asm volatile("remu %0, %1, %0" : "+r"(d) : "r"(c));
    asm volatile("mulhsu %0, %0, %0" : "+r"(b));
    put("alias"); hex(a); hex(d); hex(b); endline();
    return 0;
}
