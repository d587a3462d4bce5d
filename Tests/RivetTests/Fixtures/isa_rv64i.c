/* RV64I: every base instruction through inline assembly, on operands chosen for the edges:
 * shifts by 0/31/32/63 (and amounts the hardware masks), sign extension of the *W results,
 * lui/auipc, every branch condition taken and not taken, jal/jalr (low bit of the target
 * cleared, rd == rs1), loads and stores of every width with sign and zero extension, misaligned
 * accesses (inside a page and across a page boundary), writes to x0 and the fence forms.
 * Every result is printed in hex, so any wrong bit changes the output. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

typedef uint64_t u64;

static const u64 vals[] = {
    0, 1, 0xffffffffffffffff, 0x000000007fffffff, 0x0000000080000000,
    0x8000000000000000, 0x7fffffffffffffff, 0x0123456789abcdef,
};
#define NV (sizeof vals / sizeof vals[0])

static char line[512];
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
static void show(const char *name, u64 v) { put(name); hex(v); endline(); }

#define RR(op, a, b) ({ u64 _r; asm volatile(op " %0, %1, %2" : "=r"(_r) : "r"((u64)(a)), "r"((u64)(b))); _r; })
#define RI(op, a, imm) ({ u64 _r; asm volatile(op " %0, %1, %2" : "=r"(_r) : "r"((u64)(a)), "i"(imm)); _r; })

/* Every register-register op on every pair of vals: one line per first operand. */
#define TEST_RR(op)                                                   \
    do {                                                              \
        for (unsigned i = 0; i < NV; i++) {                           \
            put(op);                                                  \
            for (unsigned j = 0; j < NV; j++) hex(RR(op, vals[i], vals[j])); \
            endline();                                                \
        }                                                             \
    } while (0)

/* An immediate op with the given immediates, over every val. */
#define TEST_RI5(op, i0, i1, i2, i3, i4)                              \
    do {                                                              \
        for (unsigned i = 0; i < NV; i++) {                           \
            put(op " " #i0 "," #i1 "," #i2 "," #i3 "," #i4);          \
            hex(RI(op, vals[i], i0)); hex(RI(op, vals[i], i1));        \
            hex(RI(op, vals[i], i2)); hex(RI(op, vals[i], i3));        \
            hex(RI(op, vals[i], i4));                                 \
            endline();                                                \
        }                                                             \
    } while (0)

static const u64 shifts[] = {0, 1, 31, 32, 33, 63, 64, 65, 0xffffffffffffffe1};
#define NS (sizeof shifts / sizeof shifts[0])

#define TEST_SHIFT_R(op)                                              \
    do {                                                              \
        for (unsigned i = 0; i < NV; i++) {                           \
            put(op);                                                  \
            for (unsigned j = 0; j < NS; j++) hex(RR(op, vals[i], shifts[j])); \
            endline();                                                \
        }                                                             \
    } while (0)

/* Branch outcome bits: bit k is 1 when the branch on pair k was taken. */
#define BRANCH(op, a, b) ({ u64 _t; asm volatile(                     \
        op " %1, %2, 1f\n\tli %0, 0\n\tj 2f\n1:\tli %0, 1\n2:"        \
        : "=r"(_t) : "r"((u64)(a)), "r"((u64)(b))); _t; })

static void branches(void) {
    static const u64 pairs[][2] = {
        {1, 2}, {2, 1}, {5, 5}, {0xffffffffffffffff, 1}, {1, 0xffffffffffffffff},
        {0x8000000000000000, 0x7fffffffffffffff}, {0x7fffffffffffffff, 0x8000000000000000},
        {0, 0}, {0xffffffffffffffff, 0xffffffffffffffff}, {0x100000000, 0},
    };
    const unsigned n = sizeof pairs / sizeof pairs[0];
    u64 beq = 0, bne = 0, blt = 0, bge = 0, bltu = 0, bgeu = 0;
    for (unsigned k = 0; k < n; k++) {
        u64 a = pairs[k][0], b = pairs[k][1];
        beq |= BRANCH("beq", a, b) << k;
        bne |= BRANCH("bne", a, b) << k;
        blt |= BRANCH("blt", a, b) << k;
        bge |= BRANCH("bge", a, b) << k;
        bltu |= BRANCH("bltu", a, b) << k;
        bgeu |= BRANCH("bgeu", a, b) << k;
    }
    show("beq", beq); show("bne", bne); show("blt", blt);
    show("bge", bge); show("bltu", bltu); show("bgeu", bgeu);
    /* Branches against x0, as the compressed and pseudo forms produce. */
    u64 z = 0;
    for (unsigned k = 0; k < NV; k++) {
        z |= BRANCH("blt", vals[k], 0) << (4 * k);
        z |= BRANCH("bge", 0, vals[k]) << (4 * k + 1);
        z |= BRANCH("bltu", 0, vals[k]) << (4 * k + 2);
        z |= BRANCH("beq", vals[k], 0) << (4 * k + 3);
    }
    show("branch-x0", z);
}

static void jumps(void) {
    u64 r;
    /* jalr clears bit 0 of the target and rd == rs1 reads the old value first. */
    asm volatile(
        "lla t0, 1f\n\t"
        "addi t0, t0, 1\n\t"
        "jalr t0, 0(t0)\n"
        "2:\tli %0, 99\n\t"
        "j 3f\n"
        "1:\tlla t1, 2b\n\t"
        "sub %0, t0, t1\n"
        "3:"
        : "=r"(r) : : "t0", "t1");
    show("jalr-odd-rd=rs1", r);
    /* A negative jalr offset, and the link of jal. */
    asm volatile(
        "lla t0, 1f + 8\n\t"
        "jalr t1, -8(t0)\n"
        "4:\tli %0, 99\n\t"
        "j 3f\n"
        "1:\tlla t2, 4b\n\t"
        "sub %0, t1, t2\n\t"
        "jal t1, 5f\n"
        "6:\tj 3f\n"
        "5:\tlla t2, 6b\n\t"
        "sub t1, t1, t2\n\t"
        "slli t1, t1, 8\n\t"
        "or %0, %0, t1\n"
        "3:"
        : "=r"(r) : : "t0", "t1", "t2");
    show("jalr-neg/jal-link", r);
}

static void upper(void) {
    u64 a, b, c, d, e;
    asm volatile("lui %0, 0\n\tlui %1, 1\n\tlui %2, 0x7ffff\n\tlui %3, 0x80000\n\tlui %4, 0xfffff"
                 : "=r"(a), "=r"(b), "=r"(c), "=r"(d), "=r"(e));
    show("lui 0", a); show("lui 1", b); show("lui 7ffff", c); show("lui 80000", d); show("lui fffff", e);
    asm volatile("1:\tauipc %0, 0\n\tlla t0, 1b\n\tsub %0, %0, t0" : "=r"(a) : : "t0");
    asm volatile("1:\tauipc %0, 0x12345\n\tlla t0, 1b\n\tsub %0, %0, t0" : "=r"(b) : : "t0");
    asm volatile("1:\tauipc %0, 0x80000\n\tlla t0, 1b\n\tsub %0, %0, t0" : "=r"(c) : : "t0");
    asm volatile("1:\tauipc %0, 0xfffff\n\tlla t0, 1b\n\tsub %0, %0, t0" : "=r"(d) : : "t0");
    show("auipc 0", a); show("auipc 12345", b); show("auipc 80000", c); show("auipc fffff", d);
}

static void zero_register(void) {
    u64 r, m = 0x5555;
    asm volatile("addi zero, zero, 5\n\tli t0, 7\n\tadd zero, t0, t0\n\tlui zero, 0x12345\n\t"
                 "ld zero, 0(%1)\n\tmv %0, zero"
                 : "=r"(r) : "r"(&m) : "t0");
    show("x0", r);
}

static unsigned char buf[64] __attribute__((aligned(16)));

static void fill(unsigned char *p, int n) {
    for (int k = 0; k < n; k++) p[k] = (unsigned char)(0x80 + 0x1d * k);
}

#define LOAD(op, p) ({ u64 _r; asm volatile(op " %0, 0(%1)" : "=r"(_r) : "r"(p) : "memory"); _r; })
#define STORE(op, p, v) asm volatile(op " %0, 0(%1)" : : "r"((u64)(v)), "r"(p) : "memory")

static void loads(void) {
    fill(buf, sizeof buf);
    static const char *names[] = {"lb", "lbu", "lh", "lhu", "lw", "lwu", "ld"};
    for (unsigned op = 0; op < 7; op++) {
        put(names[op]);
        for (int off = 0; off < 8; off++) {
            unsigned char *p = buf + 8 + off;
            u64 v = 0;
            switch (op) {
            case 0: v = LOAD("lb", p); break;
            case 1: v = LOAD("lbu", p); break;
            case 2: v = LOAD("lh", p); break;
            case 3: v = LOAD("lhu", p); break;
            case 4: v = LOAD("lw", p); break;
            case 5: v = LOAD("lwu", p); break;
            case 6: v = LOAD("ld", p); break;
            }
            hex(v);
        }
        endline();
    }
    /* Immediate offsets, negative and the 12-bit extremes. */
    u64 a, b, c;
    asm volatile("ld %0, -8(%3)\n\tlw %1, 2047(%4)\n\tlb %2, -2048(%5)"
                 : "=r"(a), "=r"(b), "=r"(c)
                 : "r"(buf + 16), "r"(buf + 20 - 2047), "r"(buf + 3 + 2048) : "memory");
    show("ld -8", a); show("lw 2047", b); show("lb -2048", c);
}

static void stores(void) {
    static const char *names[] = {"sb", "sh", "sw", "sd"};
    const u64 v = 0x8182838485868788;
    for (unsigned op = 0; op < 4; op++) {
        put(names[op]);
        for (int off = 0; off < 8; off++) {
            memset(buf, 0, sizeof buf);
            unsigned char *p = buf + 8 + off;
            switch (op) {
            case 0: STORE("sb", p, v); break;
            case 1: STORE("sh", p, v); break;
            case 2: STORE("sw", p, v); break;
            case 3: STORE("sd", p, v); break;
            }
            u64 lo, hi;
            memcpy(&lo, buf + 8, 8);
            memcpy(&hi, buf + 16, 8);
            hex(lo); hex(hi);
        }
        endline();
    }
    u64 out[3] = {0, 0, 0};
    asm volatile("sd %0, -8(%1)\n\tsw %0, 2047(%2)\n\tsb %0, -2048(%3)"
                 : : "r"(v), "r"((unsigned char *)out + 8), "r"((unsigned char *)out + 8 - 2047),
                     "r"((unsigned char *)out + 20 + 2048) : "memory");
    show("sd -8", out[0]); show("sw 2047", out[1]); show("sb -2048", out[2]);
}

/* Misaligned accesses that cross a page boundary. */
static void page_crossing(void) {
    unsigned char *page = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) { puts("mmap failed"); return; }
    fill(page + 4096 - 16, 32);
    unsigned char *edge = page + 4096;
    show("ld cross-3", LOAD("ld", edge - 3));
    show("ld cross-7", LOAD("ld", edge - 7));
    show("lw cross-1", LOAD("lw", edge - 1));
    show("lwu cross-2", LOAD("lwu", edge - 2));
    show("lh cross-1", LOAD("lh", edge - 1));
    show("lhu cross-1", LOAD("lhu", edge - 1));
    STORE("sd", edge - 5, 0x0102030405060708);
    STORE("sw", edge - 13, 0xa1a2a3a4);
    STORE("sh", edge + 7, 0xb1b2);
    u64 a, b, c;
    memcpy(&a, edge - 16, 8);
    memcpy(&b, edge - 8, 8);
    memcpy(&c, edge, 8);
    show("store cross", a); show("store cross", b); show("store cross", c);
    munmap(page, 8192);
}

static void fences(void) {
    u64 r;
    asm volatile("fence\n\tfence rw, rw\n\tfence r, w\n\tfence iorw, iorw\n\tfence.tso\n\t"
                 ".word 0x0100000f\n\t" /* pause */
                 "li %0, 42" : "=r"(r) : : "memory");
    show("fences", r);
}

int main(void) {
    TEST_RR("add"); TEST_RR("sub"); TEST_RR("slt"); TEST_RR("sltu");
    TEST_RR("xor"); TEST_RR("or"); TEST_RR("and");
    TEST_RR("addw"); TEST_RR("subw");
    TEST_SHIFT_R("sll"); TEST_SHIFT_R("srl"); TEST_SHIFT_R("sra");
    TEST_SHIFT_R("sllw"); TEST_SHIFT_R("srlw"); TEST_SHIFT_R("sraw");
    TEST_RI5("addi", -2048, -1, 0, 1, 2047);
    TEST_RI5("addiw", -2048, -1, 0, 1, 2047);
    TEST_RI5("slti", -2048, -1, 0, 1, 2047);
    TEST_RI5("sltiu", -2048, -1, 0, 1, 2047);
    TEST_RI5("xori", -2048, -1, 0, 1, 2047);
    TEST_RI5("ori", -2048, -1, 0, 1, 2047);
    TEST_RI5("andi", -2048, -1, 0, 1, 2047);
    TEST_RI5("slli", 0, 1, 31, 32, 63);
    TEST_RI5("srli", 0, 1, 31, 32, 63);
    TEST_RI5("srai", 0, 1, 31, 32, 63);
    TEST_RI5("slliw", 0, 1, 16, 30, 31);
    TEST_RI5("srliw", 0, 1, 16, 30, 31);
    TEST_RI5("sraiw", 0, 1, 16, 30, 31);
    upper();
    branches();
    jumps();
    zero_register();
    loads();
    stores();
    page_crossing();
    fences();
    return 0;
}
