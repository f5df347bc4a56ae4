/*
 * trylock_backoff.c - the correct way to take locks "against" the order:
 * trylock and back off. The established order is a then b (thread_in_order).
 * thread_backoff holds b and calls pthread_mutex_trylock(a) twice:
 *
 *   1. while main holds a: EBUSY, so it unlocks b, then retries in order,
 *      a then b;
 *   2. once a is free: the trylock succeeds while b is held.
 *
 * Neither a failed nor a successful trylock can block, so neither adds an
 * edge b->a: no finding. Two semaphores make the EBUSY and the success
 * deterministic; nothing ever waits on a lock for long.
 */
#include "prog_util.h"

#include <semaphore.h>

pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t b = PTHREAD_MUTEX_INITIALIZER;
sem_t backed_off; /* posted by thread_backoff after its EBUSY */
sem_t a_released; /* posted by main once it no longer holds a */
int transfers;    /* protected by a and b */

NOINLINE void *thread_in_order(void *arg)
{
    (void)arg;
    CHECK(pthread_mutex_lock(&a));
    CHECK(pthread_mutex_lock(&b));
    transfers++;
    CHECK(pthread_mutex_unlock(&b));
    CHECK(pthread_mutex_unlock(&a));
    return NULL;
}

NOINLINE void *thread_backoff(void *arg)
{
    int *busy = arg;
    int rc;

    /* Attempt 1: a is held by main, so the trylock must fail. */
    CHECK(pthread_mutex_lock(&b));
    rc = pthread_mutex_trylock(&a);
    REQUIRE(rc == EBUSY);
    (*busy)++;
    CHECK(pthread_mutex_unlock(&b)); /* back off */
    CHECK_ERRNO(sem_post(&backed_off));

    /* Retry in the established order. */
    CHECK_ERRNO(sem_wait(&a_released));
    CHECK(pthread_mutex_lock(&a));
    CHECK(pthread_mutex_lock(&b));
    transfers++;
    CHECK(pthread_mutex_unlock(&b));
    CHECK(pthread_mutex_unlock(&a));

    /* Attempt 2: nobody holds a, so the trylock succeeds while b is held. */
    CHECK(pthread_mutex_lock(&b));
    CHECK(pthread_mutex_trylock(&a));
    transfers++;
    CHECK(pthread_mutex_unlock(&a));
    CHECK(pthread_mutex_unlock(&b));
    return NULL;
}

int main(void)
{
    pthread_t t;
    int busy = 0;

    CHECK_ERRNO(sem_init(&backed_off, 0, 0));
    CHECK_ERRNO(sem_init(&a_released, 0, 0));

    run_thread(thread_in_order, NULL);

    CHECK(pthread_mutex_lock(&a));
    CHECK(pthread_create(&t, NULL, thread_backoff, &busy));
    CHECK_ERRNO(sem_wait(&backed_off));
    CHECK(pthread_mutex_unlock(&a));
    CHECK_ERRNO(sem_post(&a_released));
    CHECK(pthread_join(t, NULL));

    CHECK_ERRNO(sem_destroy(&a_released));
    CHECK_ERRNO(sem_destroy(&backed_off));
    printf("trylock_backoff: transfers=%d busy=%d\n", transfers, busy);
    return 0;
}
