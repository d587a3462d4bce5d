/* Code one thread rewrites while others run it: a writer thread patches the immediate of a
 * two-instruction function (`addi a0, zero, K; ret`) in a page of its own, flushing the
 * instruction cache (riscv_flush_icache, as __builtin___clear_cache does) after each patch,
 * while reader threads fence.i and call it through a pointer. Readers must only ever see one
 * of the values written, never a stale translation of freed code or a half-written
 * instruction, and after the writer's last patch everyone sees the last value. Under the
 * tiny-code-cache setups the translations are also evicted while other threads run them. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>

#define READERS 3
#define PATCHES 3000
#define CALLS 200000

static volatile uint32_t *code;
static volatile int done;
static long bad[READERS], calls[READERS];

static uint32_t addi_a0(int value) { return 0x00000513u | ((uint32_t)value << 20); }

static void *writer(void *unused) {
    (void)unused;
    for (int k = 0; k < PATCHES; k++) {
        code[0] = addi_a0(1 + k % 7);
        __builtin___clear_cache((char *)code, (char *)code + 8);
    }
    code[0] = addi_a0(42);
    __builtin___clear_cache((char *)code, (char *)code + 8);
    __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void *reader(void *argument) {
    long id = (long)argument;
    long (*function)(void) = (long (*)(void))(uintptr_t)code;
    for (long k = 0; k < CALLS || !__atomic_load_n(&done, __ATOMIC_ACQUIRE); k++) {
        __asm__ volatile("fence.i" ::: "memory");
        long value = function();
        if (!((value >= 1 && value <= 7) || value == 42)) bad[id]++;
        calls[id]++;
    }
    return NULL;
}

int main(void) {
    void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return 1;
    code = page;
    code[0] = addi_a0(1);
    code[1] = 0x00008067u; /* ret */
    __builtin___clear_cache((char *)code, (char *)code + 8);

    pthread_t readers[READERS], patcher;
    for (long k = 0; k < READERS; k++) pthread_create(&readers[k], NULL, reader, (void *)k);
    pthread_create(&patcher, NULL, writer, NULL);
    pthread_join(patcher, NULL);
    long total = 0, wrong = 0;
    for (long k = 0; k < READERS; k++) {
        pthread_join(readers[k], NULL);
        total += calls[k];
        wrong += bad[k];
    }
    __asm__ volatile("fence.i" ::: "memory");
    long (*function)(void) = (long (*)(void))(uintptr_t)code;
    printf("calls at least %d per reader: %s\n", CALLS, total >= (long)READERS * CALLS ? "yes" : "no");
    printf("values never written seen: %ld\n", wrong);
    printf("after the last patch: %ld\n", function());
    return 0;
}
