/*
 * abba_two_threads.c - the classic ABBA inversion. thread_a takes lock_a then
 * lock_b; thread_b, started only after thread_a was joined, takes lock_b then
 * lock_a. Nothing deadlocks, but two threads took the two orders, so
 * threadlens must report one lock-order-inversion error.
 */
#include "prog_util.h"

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

int main(void)
{
    run_thread(thread_a, NULL);
    run_thread(thread_b, NULL);
    printf("abba_two_threads: value=%d\n", shared_value);
    return 0;
}
