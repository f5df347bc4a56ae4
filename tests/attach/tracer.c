/*
 * tracer.c - tl-attach-tracer PID: seize PID with ptrace (without stopping
 * it), print "tracing", and hold it until killed. Stands in for a debugger
 * or strace, so `threadlens attach` can be shown a traced process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: tl-attach-tracer PID\n");
        return 2;
    }
    pid_t pid = (pid_t)strtol(argv[1], NULL, 10);
    if (ptrace(PTRACE_SEIZE, pid, 0, 0) != 0) {
        perror("tl-attach-tracer: PTRACE_SEIZE");
        return 1;
    }
    printf("tracing\n");
    fflush(stdout);
    for (int i = 0; i < 120; i++) {
        sleep(1);
    }
    return 0;
}
