/* execve of a program whose code lies where the old program's did: what an exec keeps of the
 * old image's decoded and compiled code must be exactly what the new image repeats, byte for
 * byte. The program runs `answer` (41) hot, copies itself to ./prog and runs the copy in a
 * forked child (the same bytes: the code may stay); then rewrites one instruction of `answer`
 * in ./prog in place (same file, same size: `addi a0,zero,41` becomes 42) and runs it again
 * in a child, and then execs it itself: both must see the new instruction. A third copy with
 * the instruction changed and the file replaced whole is exec'd last from the child of a
 * process that ran the rewritten one.
 * qemu-user cannot run the copies (it would need binfmt_misc): the expectation is written by
 * hand.
 * rivet-fixture: processes
 * rivet-fixture: no-qemu */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) int answer(void) { return 41; }

static int (*volatile call)(void) = answer;

static long hot(void) {
    long sum = 0;
    for (int k = 0; k < 100000; k++) sum += call();
    return sum;
}

static unsigned char *slurp(const char *path, long *size) {
    FILE *file = fopen(path, "rb");
    if (!file) return NULL;
    fseek(file, 0, SEEK_END);
    *size = ftell(file);
    rewind(file);
    unsigned char *bytes = malloc(*size);
    if (fread(bytes, 1, *size, file) != (size_t)*size) return NULL;
    fclose(file);
    return bytes;
}

/* The file offset of `answer`'s first instruction in `bytes`, or -1. */
static long find_answer(const unsigned char *bytes, long size) {
    unsigned char code[6];
    memcpy(code, (const void *)answer, sizeof code);
    for (long k = 0; k + (long)sizeof code <= size; k++) {
        if (memcmp(bytes + k, code, sizeof code) == 0) return k;
    }
    return -1;
}

/* `addi a0, zero, value` over the instruction at `offset` of the file at `path`, in place. */
static int rewrite(const char *path, long offset, int value) {
    uint32_t instruction;
    memcpy(&instruction, (const void *)answer, 4);
    instruction = (instruction & 0xfffff) | ((uint32_t)value << 20);
    int fd = open(path, O_WRONLY);
    if (fd < 0) return -1;
    int ok = pwrite(fd, &instruction, 4, offset) == 4;
    close(fd);
    return ok ? 0 : -1;
}

static int run(const char *path) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execl(path, path, "child", (char *)NULL);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int main(int argc, char **argv) {
    if (argc > 1) {
        printf("%s: %ld\n", argv[1], hot());
        if (strcmp(argv[1], "rewritten") == 0) {
            /* A child of this process execs the copy replaced whole (another inode). */
            return run("./prog3");
        }
        return 0;
    }
    printf("first: %ld\n", hot());
    long size = 0;
    unsigned char *bytes = slurp("/proc/self/exe", &size);
    long offset = bytes ? find_answer(bytes, size) : -1;
    if (offset < 0 || find_answer(bytes + offset + 1, size - offset - 1) >= 0) {
        printf("answer's code not found once in the file\n");
        return 1;
    }
    FILE *copy = fopen("./prog", "wb");
    fwrite(bytes, 1, size, copy);
    fclose(copy);
    chmod("./prog", 0755);
    printf("copy exited %d\n", run("./prog"));
    if (rewrite("./prog", offset, 42) != 0) {
        printf("rewrite failed\n");
        return 1;
    }
    printf("rewritten copy exited %d\n", run("./prog"));

    /* ./prog3: 43, written to a new file and renamed over nothing (a new inode). */
    uint32_t instruction;
    memcpy(&instruction, (const void *)answer, 4);
    instruction = (instruction & 0xfffff) | (43u << 20);
    memcpy(bytes + offset, &instruction, 4);
    copy = fopen("./prog3.tmp", "wb");
    fwrite(bytes, 1, size, copy);
    fclose(copy);
    chmod("./prog3.tmp", 0755);
    rename("./prog3.tmp", "./prog3");

    fflush(stdout);
    char *arguments[] = {"./prog", "rewritten", NULL};
    execv("./prog", arguments);
    perror("execv");
    return 1;
}
