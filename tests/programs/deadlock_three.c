/*
 * deadlock_three.c - a real deadlock of three threads around three mutexes.
 * ring_1 holds ring_lock_1 and wants ring_lock_2, ring_2 holds ring_lock_2
 * and wants ring_lock_3, ring_3 holds ring_lock_3 and wants ring_lock_1. A
 * barrier makes sure each holds its first lock before asking for the next,
 * so all three block forever (main too, in pthread_join). Expected: one
 * deadlock error naming the three threads and one lock-order-inversion error
 * with 3 edges. The test kills the program once the findings are there.
 */
#include "prog_util.h"

pthread_mutex_t ring_lock_1 = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t ring_lock_2 = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t ring_lock_3 = PTHREAD_MUTEX_INITIALIZER;
pthread_barrier_t all_hold; /* every thread holds its first lock */

static void hold_then_want(pthread_mutex_t *held, pthread_mutex_t *wanted)
{
    CHECK(pthread_mutex_lock(held));
    barrier_wait(&all_hold);
    CHECK(pthread_mutex_lock(wanted)); /* never returns */
    CHECK(pthread_mutex_unlock(wanted));
    CHECK(pthread_mutex_unlock(held));
}

NOINLINE void *ring_1(void *arg)
{
    (void)arg;
    hold_then_want(&ring_lock_1, &ring_lock_2);
    return NULL;
}

NOINLINE void *ring_2(void *arg)
{
    (void)arg;
    hold_then_want(&ring_lock_2, &ring_lock_3);
    return NULL;
}

NOINLINE void *ring_3(void *arg)
{
    (void)arg;
    hold_then_want(&ring_lock_3, &ring_lock_1);
    return NULL;
}

int main(void)
{
    void *(*const fns[3])(void *) = {ring_1, ring_2, ring_3};
    pthread_t threads[3];

    CHECK(pthread_barrier_init(&all_hold, NULL, 3));
    for (int i = 0; i < 3; i++)
        CHECK(pthread_create(&threads[i], NULL, fns[i], NULL));
    for (int i = 0; i < 3; i++)
        CHECK(pthread_join(threads[i], NULL)); /* never returns */
    printf("deadlock_three: not reached\n");
    return 0;
}
