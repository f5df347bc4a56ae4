/*
 * gate_lock.c - an inversion that a common lock makes safe. Both threads take
 * gate first; under it thread_a takes lock_a then lock_b and thread_b takes
 * lock_b then lock_a. Only one thread can be past the gate, so the cycle
 * lock_a <-> lock_b cannot deadlock (yet): one lock-order-inversion info.
 */
#include "prog_util.h"

pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
int shared_value; /* protected by gate */

NOINLINE void *thread_a(void *arg)
{
    (void)arg;
    CHECK(pthread_mutex_lock(&gate));
    CHECK(pthread_mutex_lock(&lock_a));
    CHECK(pthread_mutex_lock(&lock_b));
    shared_value += 1;
    CHECK(pthread_mutex_unlock(&lock_b));
    CHECK(pthread_mutex_unlock(&lock_a));
    CHECK(pthread_mutex_unlock(&gate));
    return NULL;
}

NOINLINE void *thread_b(void *arg)
{
    (void)arg;
    CHECK(pthread_mutex_lock(&gate));
    CHECK(pthread_mutex_lock(&lock_b));
    CHECK(pthread_mutex_lock(&lock_a));
    shared_value += 2;
    CHECK(pthread_mutex_unlock(&lock_a));
    CHECK(pthread_mutex_unlock(&lock_b));
    CHECK(pthread_mutex_unlock(&gate));
    return NULL;
}

int main(void)
{
    run_thread(thread_a, NULL);
    run_thread(thread_b, NULL);
    printf("gate_lock: value=%d\n", shared_value);
    return 0;
}
