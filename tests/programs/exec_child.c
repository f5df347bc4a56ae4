/*
 * exec_child.c - findings survive exec. Run with no argument, the program
 * execs /proc/self/exe with the argument "child"; in child mode it runs the
 * ABBA of abba_two_threads (thread_a, then thread_b). Expected: one
 * lock-order-inversion error and two processes in the run, with the same
 * pid, the first one ended by exec.
 */
#include "prog_util.h"

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

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        run_thread(thread_a, NULL);
        run_thread(thread_b, NULL);
        printf("exec_child: child value=%d\n", shared_value);
        return 0;
    }

    char *child_argv[] = {argv[0], "child", NULL};
    printf("exec_child: exec'ing child\n");
    fflush(stdout); /* exec discards stdio buffers */
    execv("/proc/self/exe", child_argv);
    perror("exec_child: execv");
    return 1;
}
