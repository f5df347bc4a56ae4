/*
 * cycle3.c - a three-lock cycle no pair of threads shows on its own. Three
 * threads, one after another: thread_1 takes m1 then m2, thread_2 m2 then m3,
 * thread_3 m3 then m1. Expected: one lock-order-inversion error with 3 edges.
 */
#include "prog_util.h"

pthread_mutex_t m1 = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t m2 = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t m3 = PTHREAD_MUTEX_INITIALIZER;
int steps; /* protected by the locks each thread holds */

static void take_two(pthread_mutex_t *first, pthread_mutex_t *second)
{
    CHECK(pthread_mutex_lock(first));
    CHECK(pthread_mutex_lock(second));
    steps++;
    CHECK(pthread_mutex_unlock(second));
    CHECK(pthread_mutex_unlock(first));
}

NOINLINE void *thread_1(void *arg)
{
    (void)arg;
    take_two(&m1, &m2);
    return NULL;
}

NOINLINE void *thread_2(void *arg)
{
    (void)arg;
    take_two(&m2, &m3);
    return NULL;
}

NOINLINE void *thread_3(void *arg)
{
    (void)arg;
    take_two(&m3, &m1);
    return NULL;
}

int main(void)
{
    run_thread(thread_1, NULL);
    run_thread(thread_2, NULL);
    run_thread(thread_3, NULL);
    printf("cycle3: steps=%d\n", steps);
    return 0;
}
