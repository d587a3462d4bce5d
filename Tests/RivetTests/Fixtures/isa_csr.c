/* Zicsr on the user-mode CSRs: fflags, frm and fcsr read and written through every instruction
 * form (csrrw, csrrs, csrrc, csrrwi, csrrsi, csrrci, with rd = x0 and rs1 = x0 / uimm = 0
 * variants and the f* pseudo-instructions), the masking of out-of-range bits, the views of one
 * register through the three names; cycle, time and instret readable and instret monotonic.
 * It ends by writing the read-only cycle CSR, an illegal instruction (SIGILL, status 132). */
#include <stdint.h>
#include <stdio.h>

typedef uint64_t u64;

static void show(const char *name, u64 v) { printf("%-28s %016lx\n", name, v); }

#define CSR_RW(form, csr, value) ({ u64 _o; asm volatile(form " %0, " csr ", %1" : "=r"(_o) : "r"((u64)(value))); _o; })
#define CSR_I(form, csr, imm) ({ u64 _o; asm volatile(form " %0, " csr ", %1" : "=r"(_o) : "i"(imm)); _o; })
#define READ(csr) ({ u64 _v; asm volatile("csrr %0, " csr : "=r"(_v)); _v; })
#define FCSR() READ("fcsr")

static void set_fcsr(u64 v) { asm volatile("csrw fcsr, %0" : : "r"(v)); }

static void register_forms(void) {
    set_fcsr(0);
    show("fcsr initial", FCSR());

    /* csrrw: old value out, new value in (masked). */
    show("csrrw fflags 0x15", CSR_RW("csrrw", "fflags", 0x15));
    show("  fcsr", FCSR());
    show("csrrw fflags 0xffff", CSR_RW("csrrw", "fflags", 0xffff));
    show("  fcsr", FCSR());
    show("csrrw frm 3", CSR_RW("csrrw", "frm", 3));
    show("  fcsr", FCSR());
    show("csrrw frm 0xfd", CSR_RW("csrrw", "frm", 0xfd));
    show("  fcsr", FCSR());
    show("csrrw fcsr 0x1234", CSR_RW("csrrw", "fcsr", 0x1234));
    show("  fcsr", FCSR());
    show("  fflags", READ("fflags"));
    show("  frm", READ("frm"));

    /* csrrs / csrrc set and clear bits and return the old value. */
    set_fcsr(0x21);
    show("csrrs fflags 0x6", CSR_RW("csrrs", "fflags", 0x6));
    show("  fcsr", FCSR());
    show("csrrc fflags 0x3", CSR_RW("csrrc", "fflags", 0x3));
    show("  fcsr", FCSR());
    show("csrrs frm 0x2", CSR_RW("csrrs", "frm", 0x2));
    show("  fcsr", FCSR());
    show("csrrc frm 0x1", CSR_RW("csrrc", "frm", 0x1));
    show("  fcsr", FCSR());
    show("csrrs fcsr 0x300", CSR_RW("csrrs", "fcsr", 0x300));
    show("  fcsr", FCSR());
    show("csrrc fcsr 0xff0", CSR_RW("csrrc", "fcsr", 0xff0));
    show("  fcsr", FCSR());

    /* Immediate forms. */
    set_fcsr(0);
    show("csrrwi fflags 31", CSR_I("csrrwi", "fflags", 31));
    show("  fcsr", FCSR());
    show("csrrwi frm 4", CSR_I("csrrwi", "frm", 4));
    show("  fcsr", FCSR());
    show("csrrci fflags 10", CSR_I("csrrci", "fflags", 10));
    show("  fcsr", FCSR());
    show("csrrsi frm 3", CSR_I("csrrsi", "frm", 3));
    show("  fcsr", FCSR());
    show("csrrci fcsr 31", CSR_I("csrrci", "fcsr", 31));
    show("  fcsr", FCSR());
    show("csrrwi fcsr 17", CSR_I("csrrwi", "fcsr", 17));
    show("  fcsr", FCSR());
    show("csrrsi fcsr 8", CSR_I("csrrsi", "fcsr", 8));
    show("  fcsr", FCSR());

    /* Zero sources read without writing; rd = x0 writes without reading. */
    set_fcsr(0x7f);
    u64 a, b, c, d;
    asm volatile("csrrs %0, fcsr, zero\n\tcsrrc %1, fflags, zero\n\tcsrrsi %2, frm, 0\n\tcsrrci %3, fcsr, 0"
                 : "=r"(a), "=r"(b), "=r"(c), "=r"(d));
    show("zero-source reads", a << 48 | b << 32 | c << 16 | d);
    show("  fcsr", FCSR());
    asm volatile("csrrw zero, fcsr, %0" : : "r"((u64)0x45));
    show("csrrw x0 fcsr 0x45", FCSR());
    asm volatile("csrrwi zero, frm, 2\n\tcsrrsi zero, fflags, 16\n\tcsrrc zero, fflags, %0" : : "r"((u64)1));
    show("csrrwi/si/c x0", FCSR());

    /* The pseudo-instructions and numeric CSR names. */
    set_fcsr(0);
    u64 o1, o2, o3, o4, o5;
    asm volatile("fsflags %0, %5\n\tfsrm %1, %6\n\tfrflags %2\n\tfrrm %3\n\tfrcsr %4"
                 : "=&r"(o1), "=&r"(o2), "=&r"(o3), "=&r"(o4), "=&r"(o5)
                 : "r"((u64)0x1b), "r"((u64)1));
    show("fsflags old", o1); show("fsrm old", o2); show("frflags", o3); show("frrm", o4); show("frcsr", o5);
    asm volatile("fsflagsi %0, 5\n\tfsrmi %1, 2\n\tfscsr %2, %3" : "=&r"(o1), "=&r"(o2), "=&r"(o3) : "r"((u64)0x99));
    show("fsflagsi old", o1); show("fsrmi old", o2); show("fscsr old", o3);
    show("csr 0x001", READ("0x001")); show("csr 0x002", READ("0x002")); show("csr 0x003", READ("0x003"));
    set_fcsr(0);
}

static void counters(void) {
    u64 i1, i2, c1, c2, t1, t2;
    asm volatile("rdinstret %0" : "=r"(i1));
    asm volatile("rdcycle %0" : "=r"(c1));
    asm volatile("rdtime %0" : "=r"(t1));
    volatile u64 sink = 0;
    for (int k = 0; k < 1000; k++) sink += k;
    asm volatile("rdinstret %0" : "=r"(i2));
    asm volatile("rdcycle %0" : "=r"(c2));
    asm volatile("rdtime %0" : "=r"(t2));
    printf("instret increases: %d\n", i2 > i1 && i2 - i1 >= 1000);
    printf("cycle readable, non-decreasing: %d\n", c2 >= c1);
    printf("time readable, non-decreasing: %d\n", t2 >= t1);
    /* csrrs with x0 and csrrsi with 0 are reads, legal on read-only CSRs. */
    u64 a, b, c;
    asm volatile("csrrs %0, instret, zero\n\tcsrrsi %1, cycle, 0\n\tcsrrc %2, time, zero" : "=r"(a), "=r"(b), "=r"(c));
    printf("read-only CSRs read through csrrs/csrrsi/csrrc: ok\n");
    asm volatile("csrr %0, 0xc02\n\tcsrr %1, 0xc00\n\tcsrr %2, 0xc01" : "=r"(a), "=r"(b), "=r"(c));
    printf("numeric 0xc02 >= earlier instret: %d\n", a >= i2);
    fflush(stdout);
}

int main(void) {
    register_forms();
    counters();
    /* Writing a read-only CSR is an illegal instruction. */
    asm volatile("csrw cycle, %0" : : "r"((u64)0));
    puts("not reached");
    return 0;
}
