/*
 * vfork_exec.c - a vfork child runs on its parent's memory: the agent's state
 * in it is the parent's, database connection and locks included, but it is
 * another process. The parent vforks three children that exec this program
 * with the argument "child" (the first at once, while the collector may still
 * be opening the database; the others once it is open) and one whose exec
 * fails and that calls _exit(127), the way a shell does; then it runs the
 * ABBA of abba_two_threads (thread_a, then thread_b). Before the fix, the
 * first child's exec flush could wait for ever on the parent's SQLite locks,
 * and the failed one's _exit ended the parent's recording with status 127.
 * Expected: the parent still recording after its children, so one
 * lock-order-inversion error; four processes in the run (the parent and the
 * three exec'd images, which record themselves); the parent's recorded exit
 * status its own; nothing hangs.
 */
#include "abba.h"

#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t counted = PTHREAD_MUTEX_INITIALIZER;

NOINLINE static int spawn(const char *path, char *const argv[])
{
    pid_t pid = vfork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        execv(path, argv);
        _exit(127); /* only async-signal-safe calls in a vfork child */
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "child") == 0)
        return 0;

    /* The first child at once, while the collector may still be opening the database. */
    char *child_argv[] = {argv[0], "child", NULL};
    printf("vfork_exec: child 0 exited %d\n", spawn("/proc/self/exe", child_argv));

    /* Some recorded activity, and time for the collector to be done with the open. */
    CHECK(pthread_mutex_lock(&counted));
    void *block = malloc(100);
    CHECK(pthread_mutex_unlock(&counted));
    struct timespec settle = {0, 200 * 1000 * 1000};
    nanosleep(&settle, NULL);

    for (int i = 1; i < 3; i++)
        printf("vfork_exec: child %d exited %d\n", i, spawn("/proc/self/exe", child_argv));
    char *missing_argv[] = {"/nonexistent/program", NULL};
    printf("vfork_exec: failed exec exited %d\n", spawn(missing_argv[0], missing_argv));
    free(block);
    printf("vfork_exec: value=%d\n", run_abba());
    return 0;
}
