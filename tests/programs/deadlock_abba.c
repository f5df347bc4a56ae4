/*
 * deadlock_abba.c - a real ABBA deadlock that never ends. hold_a_want_b takes
 * lock_a, hold_b_want_a takes lock_b; a barrier makes sure both hold their
 * first lock before either asks for the other, so both block forever. main
 * blocks forever in pthread_join (outside the lock cycle). The test runs it
 * only under the agent and kills it once the findings are there: one deadlock
 * error naming both threads and one lock-order-inversion error (2 edges).
 */
#include "prog_util.h"

pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
pthread_barrier_t both_hold; /* both threads hold their first lock */

NOINLINE void *hold_a_want_b(void *arg)
{
    (void)arg;
    CHECK(pthread_mutex_lock(&lock_a));
    barrier_wait(&both_hold);
    CHECK(pthread_mutex_lock(&lock_b)); /* never returns */
    CHECK(pthread_mutex_unlock(&lock_b));
    CHECK(pthread_mutex_unlock(&lock_a));
    return NULL;
}

NOINLINE void *hold_b_want_a(void *arg)
{
    (void)arg;
    CHECK(pthread_mutex_lock(&lock_b));
    barrier_wait(&both_hold);
    CHECK(pthread_mutex_lock(&lock_a)); /* never returns */
    CHECK(pthread_mutex_unlock(&lock_a));
    CHECK(pthread_mutex_unlock(&lock_b));
    return NULL;
}

int main(void)
{
    pthread_t ta, tb;

    CHECK(pthread_barrier_init(&both_hold, NULL, 2));
    CHECK(pthread_create(&ta, NULL, hold_a_want_b, NULL));
    CHECK(pthread_create(&tb, NULL, hold_b_want_a, NULL));
    CHECK(pthread_join(ta, NULL)); /* never returns */
    CHECK(pthread_join(tb, NULL));
    printf("deadlock_abba: not reached\n");
    return 0;
}
