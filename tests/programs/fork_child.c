/*
 * fork_child.c - findings follow the process that made them. main forks; the
 * child runs the ABBA of abba_two_threads (thread_a, then thread_b) and
 * exits; the parent waits and prints the child's status. Expected: two
 * processes in the run, one lock-order-inversion error, in the child.
 */
#include "prog_util.h"

#include <sys/wait.h>
#include <unistd.h>

pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
int shared_value; /* protected by lock_a and lock_b */

NOINLINE void *thread_a(void *arg)
{
    (void)arg;
    CHECK(pthread_mutex_lock(&lock_a));
    CHECK(pthread_mutex_lock(&lock_b));
    shared_value += 1;
    CHECK(pthread_mutex_unlock(&lock_b));
    CHECK(pthread_mutex_unlock(&lock_a));
    return NULL;
}

NOINLINE void *thread_b(void *arg)
{
    (void)arg;
    CHECK(pthread_mutex_lock(&lock_b));
    CHECK(pthread_mutex_lock(&lock_a));
    shared_value += 2;
    CHECK(pthread_mutex_unlock(&lock_a));
    CHECK(pthread_mutex_unlock(&lock_b));
    return NULL;
}

NOINLINE void child_main(void)
{
    run_thread(thread_a, NULL);
    run_thread(thread_b, NULL);
    printf("fork_child: child value=%d\n", shared_value);
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
