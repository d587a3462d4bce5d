/* execve: the program copies itself into its working directory and runs the copy with
 * arguments and an environment of its choice; descriptors without close-on-exec are
 * inherited and those with it closed; handled signals go back to their default action while
 * ignored ones stay ignored; a `#!` script runs its interpreter (with the optional argument
 * and the script's path); /proc/self/exe runs the program itself again (how busybox runs its
 * applets); a threaded process execs; ENOENT, EACCES and ENOEXEC are reported.
 * The expectation comes from the same program built for and run on x86-64 Linux (qemu-user
 * cannot run the copy: it would need binfmt_misc).
 * rivet-fixture: processes
 * rivet-fixture: no-qemu */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void handler(int signal) { (void)signal; }

static const char *base(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static int child(int argc, char **argv) {
    printf("child: argv[0] %s,", base(argv[0]));
    for (int k = 1; k < argc; k++) printf(" [%s]", argv[k]);
    printf("; K=%s\n", getenv("K") ? getenv("K") : "(unset)");
    if (argc > 2 && !strcmp(argv[2], "descriptors")) {
        char text[16] = {0};
        ssize_t n = read(3, text, sizeof text - 1);
        printf("child: fd 3 reads \"%s\" (%zd), fd 4 is %s\n", text, n, fcntl(4, F_GETFD) < 0 && errno == EBADF ? "closed" : "open");
        struct sigaction action;
        sigaction(SIGUSR1, NULL, &action);
        printf("child: SIGUSR1 %s,", action.sa_handler == SIG_DFL ? "default" : "handled");
        sigaction(SIGUSR2, NULL, &action);
        printf(" SIGUSR2 %s\n", action.sa_handler == SIG_IGN ? "ignored" : "not ignored");
    }
    fflush(stdout);
    return 7;
}

static void *idle(void *unused) {
    (void)unused;
    for (;;) pause();
}

static int runAndWait(const char *path, char **arguments, char **environment) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execve(path, arguments, environment);
        printf("execve %s: %s\n", path, strerror(errno));
        fflush(stdout);
        _exit(99);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void writeFile(const char *path, const char *text, mode_t mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    write(fd, text, strlen(text));
    close(fd);
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "child")) return child(argc, argv);
    if (argc > 1 && !strcmp(argv[1], "threaded")) {
        pthread_t thread;
        pthread_create(&thread, NULL, idle, NULL);
        char *arguments[] = {"copy", "child", "from a threaded process", NULL};
        execve("./copy", arguments, (char *[]){NULL});
        return 98;
    }

    /* The copy. */
    int in = open("/proc/self/exe", O_RDONLY);
    int out = open("copy", O_WRONLY | O_CREAT | O_TRUNC, 0755);
    char buffer[65536];
    ssize_t n;
    while ((n = read(in, buffer, sizeof buffer)) > 0) write(out, buffer, n);
    close(in);
    close(out);

    char *arguments[] = {"copy", "child", "two words", "", NULL};
    char *environment[] = {"K=V", NULL};
    printf("exit status %d\n", runAndWait("./copy", arguments, environment));

    /* Descriptors and signal dispositions across execve. */
    writeFile("data", "inherited", 0644);
    int kept = open("data", O_RDONLY);
    int closed = open("data", O_RDONLY | O_CLOEXEC);
    if (kept != 3 || closed != 4) printf("unexpected descriptors %d %d\n", kept, closed);
    signal(SIGUSR1, handler);
    signal(SIGUSR2, SIG_IGN);
    char *descriptors[] = {"copy", "child", "descriptors", NULL};
    printf("exit status %d\n", runAndWait("./copy", descriptors, environment));
    close(kept);
    close(closed);
    signal(SIGUSR1, SIG_DFL);
    signal(SIGUSR2, SIG_DFL);

    /* A script. */
    char directory[4096];
    getcwd(directory, sizeof directory);
    char script[4200];
    snprintf(script, sizeof script, "#!%s/copy child\necho not a shell\n", directory);
    writeFile("script", script, 0755);
    char *scriptArguments[] = {"script", "x y", NULL};
    printf("exit status %d\n", runAndWait("./script", scriptArguments, environment));

    /* The running program again, through /proc/self/exe. */
    char *itself[] = {"itself", "child", "through /proc/self/exe", NULL};
    printf("exit status %d\n", runAndWait("/proc/self/exe", itself, environment));

    /* Errors. */
    writeFile("plain", "not executable", 0644);
    writeFile("garbage", "\x7f" "ELF garbage that is not a program at all, not even close", 0755);
    char *none[] = {"x", NULL};
    printf("exit status %d\n", runAndWait("./missing", none, environment));
    printf("exit status %d\n", runAndWait("./plain", none, environment));
    printf("exit status %d\n", runAndWait("./garbage", none, environment));

    /* execve from a process with another thread. */
    char *threaded[] = {"copy", "threaded", NULL};
    printf("exit status %d\n", runAndWait("./copy", threaded, environment));
    return 0;
}
