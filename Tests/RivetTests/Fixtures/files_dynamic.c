/* File syscalls from a dynamically linked program, whose loader opens, maps and stats its
 * libraries in the sysroot first: stdio, a directory listing, stat of the loader and libc,
 * and the libraries' lines in /proc/self/maps.
 * rivet-fixture: dynamic */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void) {
    FILE *f = fopen("notes.txt", "w");
    fprintf(f, "dynamic\n");
    fclose(f);
    char line[64] = {0};
    f = fopen("notes.txt", "r");
    fgets(line, sizeof line, f);
    fclose(f);
    printf("read back: %s", line);

    struct stat st;
    printf("libc.so.6 is a regular file: %d\n", stat("/lib/libc.so.6", &st) == 0 && S_ISREG(st.st_mode));
    printf("the loader is executable: %d\n", stat("/lib/ld-linux-riscv64-lp64d.so.1", &st) == 0 && (st.st_mode & S_IXUSR));
    DIR *d = opendir("/lib");
    int libc = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, "libc.so.6") == 0) libc = 1;
    closedir(d);
    printf("/lib lists libc.so.6: %d\n", libc);

    FILE *maps = fopen("/proc/self/maps", "r");
    char buf[512];
    int libc_lines = 0, loader_lines = 0;
    while (fgets(buf, sizeof buf, maps)) {
        if (strstr(buf, "/libc.so.6\n")) libc_lines++;
        if (strstr(buf, "/ld-linux-riscv64-lp64d.so.1\n")) loader_lines++;
    }
    fclose(maps);
    printf("maps has libc: %d, has the loader: %d\n", libc_lines > 0, loader_lines > 0);
    unlink("notes.txt");
    printf("unlinked: %d\n", access("notes.txt", F_OK) != 0);
    return 0;
}
