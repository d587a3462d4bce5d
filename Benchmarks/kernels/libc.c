/* libc string and malloc work: many small and medium malloc/realloc/free, strlen, memcpy,
 * memset, memcmp, strcmp, strchr, snprintf and qsort over strings. Size: rounds. */
#include "bench.h"

static int compare_strings(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
    long size = bench_size(argc, argv, 240);
    enum { COUNT = 4000 };
    static char *words[COUNT];
    uint64_t sum = 0, state = 7;
    for (long round = 0; round < size; round++) {
        for (int i = 0; i < COUNT; i++) {
            uint64_t r = bench_next(&state);
            size_t length = 4 + (size_t)(r % 40);
            char *word = malloc(length + 1);
            for (size_t k = 0; k < length; k++) word[k] = (char)('a' + (r >> (k % 50)) % 26);
            word[length] = 0;
            words[i] = word;
        }
        qsort(words, COUNT, sizeof words[0], compare_strings);
        for (int i = 0; i < COUNT; i++) {
            size_t length = strlen(words[i]);
            sum = bench_mix(sum, length);
            const char *hit = strchr(words[i], 'q');
            sum += hit ? (uint64_t)(hit - words[i]) : 99;
            if (i > 0 && memcmp(words[i - 1], words[i], 3) == 0) sum++;
        }
        /* Grow a text by appending formatted records, copy it around, then release everything. */
        size_t capacity = 64, used = 0;
        char *text = malloc(capacity);
        for (int i = 0; i < COUNT; i += 3) {
            char record[96];
            int written = snprintf(record, sizeof record, "%d:%s;", i, words[i]);
            if (used + (size_t)written + 1 > capacity) {
                capacity *= 2;
                text = realloc(text, capacity);
            }
            memcpy(text + used, record, (size_t)written + 1);
            used += (size_t)written;
        }
        char *copy = malloc(used + 1);
        memcpy(copy, text, used + 1);
        memset(text, 'x', used);
        sum = bench_mix(sum, strlen(copy));
        sum = bench_mix(sum, (uint64_t)(strrchr(copy, ':') - copy));
        free(copy);
        free(text);
        for (int i = 0; i < COUNT; i++) free(words[(i * 7) % COUNT]);
    }
    bench_done("libc", size, sum);
    return 0;
}
