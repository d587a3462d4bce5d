/* Adversarial: a hot loop in page 0. The guest maps address 0 (as Linux lets a process with
 * mmap_min_addr's leave, and qemu does), writes a loop there and calls it until tier 2 looks
 * around the loop for indirect-jump targets: the pages next to page 0 once made a range from
 * 2^52 - 1 down to 1, and the host stopped. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

int main(void) {
    /* li a0, 0; lui a1, 0x1000; 1: addi a0, a0, 1; bne a0, a1, 1b; ret */
    const uint32_t code[] = {0x00000513, 0x010005b7, 0x00150513, 0xfeb51ee3, 0x00008067};
    char *page = mmap((void *)0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_FIXED | MAP_ANONYMOUS | MAP_PRIVATE,
                      -1, 0);
    if (page == MAP_FAILED) {
        printf("page 0 not mapped\n");
        return 0;
    }
    char *volatile at = page + 0x100; /* (volatile: the compiler knows nothing lives at 0) */
    memcpy(at, code, sizeof code);
    __builtin___clear_cache(at, at + sizeof code);
    long (*loop)(void) = (long (*)(void))(uintptr_t)at;
    long sum = 0;
    for (int i = 0; i < 4; i++) sum += loop();
    printf("page 0 at %p, the loop counted %ld\n", (void *)page, sum);
    return 0;
}
