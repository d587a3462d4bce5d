/* A file mapping longer than its file: the bytes after the end of the file on the last page
 * read as zeros, pages wholly past it raise SIGBUS (status 135), even after an mprotect. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void) {
    int fd = open("small.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "hello", 5) != 5) return 1;
    char *p = mmap(NULL, 3 * 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) return 2;
    printf("file bytes: %.5s, tail of page: %d\n", p, p[4095]);
    if (mprotect(p, 3 * 4096, PROT_READ | PROT_WRITE) != 0) return 3;
    p[100] = 'x';
    printf("private write on the first page: %c\n", p[100]);
    fflush(stdout);
    printf("past the end: %d\n", p[2 * 4096]);
    return 0;
}
