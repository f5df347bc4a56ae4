/*
 * deadlock_timed.c - an ABBA deadlock that a timed lock breaks. timed_a_want_b
 * holds lock_a and, once hold_b_want_a holds lock_b (barrier), waits for
 * lock_b with pthread_mutex_timedlock; hold_b_want_a waits for lock_a with
 * pthread_mutex_lock. Both are stuck until the timedlock gives up after
 * TIMEOUT_S seconds with ETIMEDOUT; timed_a_want_b then releases lock_a,
 * hold_b_want_a proceeds, and both are joined. The agent sees the deadlock
 * while it lasts. Expected: one deadlock error, resolved, and one
 * lock-order-inversion error (2 edges).
 */
#include "prog_util.h"

#include <time.h>

#define TIMEOUT_S 2

pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
pthread_barrier_t both_hold; /* both threads hold their first lock */
int timed_rc = -1;           /* written by timed_a_want_b before it is joined */
int b_done;                  /* protected by lock_a and lock_b */

NOINLINE void *timed_a_want_b(void *arg)
{
    struct timespec deadline;

    (void)arg;
    CHECK(pthread_mutex_lock(&lock_a));
    barrier_wait(&both_hold);
    REQUIRE(clock_gettime(CLOCK_REALTIME, &deadline) == 0);
    deadline.tv_sec += TIMEOUT_S;
    timed_rc = pthread_mutex_timedlock(&lock_b, &deadline);
    if (timed_rc == 0) /* not expected: hold_b_want_a never lets go first */
        CHECK(pthread_mutex_unlock(&lock_b));
    CHECK(pthread_mutex_unlock(&lock_a));
    return NULL;
}

NOINLINE void *hold_b_want_a(void *arg)
{
    (void)arg;
    CHECK(pthread_mutex_lock(&lock_b));
    barrier_wait(&both_hold);
    CHECK(pthread_mutex_lock(&lock_a)); /* until timed_a_want_b gives up */
    b_done = 1;
    CHECK(pthread_mutex_unlock(&lock_a));
    CHECK(pthread_mutex_unlock(&lock_b));
    return NULL;
}

int main(void)
{
    pthread_t ta, tb;

    CHECK(pthread_barrier_init(&both_hold, NULL, 2));
    CHECK(pthread_create(&ta, NULL, timed_a_want_b, NULL));
    CHECK(pthread_create(&tb, NULL, hold_b_want_a, NULL));
    CHECK(pthread_join(ta, NULL));
    CHECK(pthread_join(tb, NULL));
    CHECK(pthread_barrier_destroy(&both_hold));
    printf("deadlock_timed: timedlock returned %s, b_done=%d\n",
           timed_rc == ETIMEDOUT ? "ETIMEDOUT" : strerror(timed_rc), b_done);
    return 0;
}
