/* Indirect branches through a switch: a small stack-machine bytecode interpreter whose dispatch
 * is a dense switch (a jump table: one indirect jump per bytecode) running a loop with a
 * data-dependent branch, a call and memory traffic. Size: runs of the bytecode program. */
#include "bench.h"

enum op { PUSH, POP, DUP, SWAP, ADD, SUB, MUL, AND, XOR, SHR, LOAD, STORE, JNZ, JMP, DEC, CALL, RET, HALT };

struct insn { uint8_t op; int32_t arg; };

static NOINLINE int64_t execute(const struct insn *code, int64_t *mem, long *executed) {
    int64_t stack[64];
    int returns[16];
    int sp = 0, rp = 0, pc = 0;
    long count = 0;
    for (;;) {
        const struct insn in = code[pc++];
        count++;
        switch ((enum op)in.op) {
        case PUSH: stack[sp++] = in.arg; break;
        case POP: sp--; break;
        case DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case SWAP: { int64_t t = stack[sp - 1]; stack[sp - 1] = stack[sp - 2]; stack[sp - 2] = t; break; }
        case ADD: sp--; stack[sp - 1] += stack[sp]; break;
        case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
        case MUL: sp--; stack[sp - 1] *= stack[sp]; break;
        case AND: sp--; stack[sp - 1] &= stack[sp]; break;
        case XOR: sp--; stack[sp - 1] ^= stack[sp]; break;
        case SHR: stack[sp - 1] = (int64_t)((uint64_t)stack[sp - 1] >> in.arg); break;
        case LOAD: stack[sp - 1] = mem[stack[sp - 1] & 255]; break;
        case STORE: sp -= 2; mem[stack[sp + 1] & 255] = stack[sp]; break;
        case JNZ: if (stack[--sp] != 0) pc = in.arg; break;
        case JMP: pc = in.arg; break;
        case DEC: stack[sp - 1]--; break;
        case CALL: returns[rp++] = pc; pc = in.arg; break;
        case RET: pc = returns[--rp]; break;
        case HALT: *executed = count; return stack[sp - 1];
        }
    }
}

int main(int argc, char **argv) {
    long size = bench_size(argc, argv, 15000);
    int64_t mem[256];
    for (int i = 0; i < 256; i++) mem[i] = (int64_t)(i * 2654435761u);

    /* The bytecode program; the comments show the stack after each line. mem[1] counts down. */
    struct insn code[64];
    int n = 0;
#define EMIT(o, a) (code[n].op = (o), code[n].arg = (a), n++)
    EMIT(PUSH, 0);                                   /* acc */
    int loop = n;
    EMIT(PUSH, 1); EMIT(LOAD, 0);                    /* acc i          i = mem[1] */
    EMIT(DUP, 0); EMIT(LOAD, 0);                     /* acc i m        m = mem[i] */
    EMIT(DUP, 0); EMIT(PUSH, 1); EMIT(AND, 0);       /* acc i m m&1 */
    int branch = n; EMIT(JNZ, 0);                    /* acc i m */
    EMIT(PUSH, 0x55); EMIT(XOR, 0);                  /* even: m ^ 0x55 */
    int skip = n; EMIT(JMP, 0);
    int odd = n; EMIT(PUSH, 7); EMIT(MUL, 0);        /* odd: m * 7 */
    int join = n; EMIT(SHR, 1);                      /* acc i v */
    int call = n; EMIT(CALL, 0);                     /* acc i w        w = mix(v) */
    EMIT(DUP, 0);                                    /* acc i w w */
    EMIT(PUSH, 2); EMIT(LOAD, 0); EMIT(ADD, 0);      /* acc i w w+mem[2] */
    EMIT(PUSH, 2); EMIT(STORE, 0);                   /* acc i w        mem[2] += w */
    EMIT(SWAP, 0);                                   /* acc w i */
    EMIT(DEC, 0); EMIT(DUP, 0);                      /* acc w i-1 i-1 */
    EMIT(PUSH, 1); EMIT(STORE, 0);                   /* acc w i-1      mem[1] = i-1 */
    EMIT(POP, 0); EMIT(ADD, 0);                      /* acc+w */
    EMIT(PUSH, 1); EMIT(LOAD, 0);                    /* acc i */
    EMIT(JNZ, loop);                                 /* acc */
    EMIT(HALT, 0);
    int mix = n;                                     /* v -> v ^ mem[v & 63] */
    EMIT(DUP, 0); EMIT(PUSH, 63); EMIT(AND, 0); EMIT(LOAD, 0); EMIT(XOR, 0); EMIT(RET, 0);
#undef EMIT
    code[branch].arg = odd;
    code[skip].arg = join;
    code[call].arg = mix;

    uint64_t sum = 0;
    long total = 0;
    for (long round = 0; round < size; round++) {
        mem[1] = 200;                                /* the loop's trip count */
        long executed = 0;
        int64_t acc = execute(code, mem, &executed);
        total += executed;
        sum = bench_mix(sum, (uint64_t)acc);
        mem[(round * 5) & 255] ^= acc;
    }
    bench_done("switch", size, bench_mix(sum, (uint64_t)total));
    return 0;
}
