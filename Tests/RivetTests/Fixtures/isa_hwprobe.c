/* What the guest learns about its hart: riscv_hwprobe (syscall 258) for every key Rivet
 * answers and one it does not, and /proc/cpuinfo. qemu-riscv64 7.2 has no riscv_hwprobe (qemu
 * 8.1 added it) and shows the host's /proc/cpuinfo, so the expectations are written by hand
 * from Linux's arch/riscv/include/uapi/asm/hwprobe.h and arch/riscv/kernel/cpu.c:
 *
 * - IMA_EXT_0 (key 4): IMA_FD 1 << 0, IMA_C 1 << 1, ZBA 1 << 3, ZBB 1 << 4, ZBS 1 << 5,
 *   ZICBOZ 1 << 6, ZFA 1 << 32, ZICOND 1 << 35, ZIHINTPAUSE 1 << 36, ZICBOM 1 << 55:
 *   0x8000190000007b;
 * - ZICBOZ_BLOCK_SIZE (key 6) and ZICBOM_BLOCK_SIZE (key 12): 64;
 * - an unknown key reads back as key -1, value 0;
 * - cpuinfo's isa line names the same extensions, in the kernel's canonical order.
 * rivet-fixture: no-qemu */
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct riscv_hwprobe {
    int64_t key;
    uint64_t value;
};

int main(void) {
    struct riscv_hwprobe pairs[] = {{0}, {1}, {2}, {3}, {4}, {5}, {6}, {12}, {1000}};
    size_t count = sizeof pairs / sizeof pairs[0];
    long result = syscall(258, pairs, count, 0, NULL, 0);
    printf("riscv_hwprobe: %ld\n", result);
    for (size_t k = 0; k < count; k++) printf("  key %lld: %#llx\n", (long long)pairs[k].key, (unsigned long long)pairs[k].value);

    /* The extensions of IMA_EXT_0 must all be in cpuinfo's isa line. */
    static const struct { int bit; const char *name; } bits[] = {
        {3, "_zba"}, {4, "_zbb"}, {5, "_zbs"}, {6, "_zicboz"}, {32, "_zfa"}, {35, "_zicond"}, {36, "_zihintpause"},
        {55, "_zicbom"},
    };
    FILE *file = fopen("/proc/cpuinfo", "r");
    if (!file) {
        printf("no /proc/cpuinfo\n");
        return 1;
    }
    char line[512], isa[512] = "";
    int processors = 0, first = 1;
    printf("/proc/cpuinfo (the first hart):\n");
    while (fgets(line, sizeof line, file)) {
        if (strncmp(line, "processor\t", 10) == 0) processors++;
        if (first) printf("| %s", line);
        if (line[0] == '\n') first = 0;
        if (strncmp(line, "isa\t", 4) == 0 && !isa[0]) snprintf(isa, sizeof isa, "%s", line);
    }
    fclose(file);
    /* One entry per hart, as many as sched_getaffinity offers. */
    cpu_set_t set;
    int affinity = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : -1;
    printf("harts in cpuinfo match sched_getaffinity: %s\n", processors == affinity && processors >= 1 ? "yes" : "no");
    for (size_t k = 0; k < sizeof bits / sizeof bits[0]; k++) {
        int probed = (pairs[4].value >> bits[k].bit) & 1;
        int listed = strstr(isa, bits[k].name) != NULL;
        printf("%-13s hwprobe %d, cpuinfo %d%s\n", bits[k].name + 1, probed, listed, probed == listed ? "" : " MISMATCH");
    }
    return 0;
}
