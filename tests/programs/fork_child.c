/*
 * fork_child.c - findings follow the process that made them. main forks; the
 * child runs the ABBA of abba_two_threads (thread_a, then thread_b) and
 * exits; the parent waits and prints the child's status. Expected: two
 * processes in the run, one lock-order-inversion error, in the child.
 */
#include "abba.h"

#include <sys/wait.h>
#include <unistd.h>

NOINLINE void child_main(void)
{
    printf("fork_child: child value=%d\n", run_abba());
    exit(0); /* exit, not _exit: atexit handlers and stdio flush run */
}

int main(void)
{
    pid_t pid;
    int status = 0;

    fflush(stdout); /* nothing buffered may be inherited by the child */
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0)
        child_main();
    REQUIRE(waitpid(pid, &status, 0) == pid);
    if (WIFEXITED(status))
        printf("fork_child: parent saw child exit %d\n", WEXITSTATUS(status));
    else
        printf("fork_child: parent saw child status 0x%x\n", (unsigned)status);
    return 0;
}
