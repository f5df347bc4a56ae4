/*
 * exec_child.c - findings survive exec. Run with no argument, the program
 * execs /proc/self/exe with the argument "child"; in child mode it runs the
 * ABBA of abba_two_threads (thread_a, then thread_b). Expected: one
 * lock-order-inversion error and two processes in the run, with the same
 * pid, the first one ended by exec.
 */
#include "abba.h"

#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        printf("exec_child: child value=%d\n", run_abba());
        return 0;
    }

    char *child_argv[] = {argv[0], "child", NULL};
    printf("exec_child: exec'ing child\n");
    fflush(stdout); /* exec discards stdio buffers */
    execv("/proc/self/exe", child_argv);
    perror("exec_child: execv");
    return 1;
}
