/*
 * stress_cancel.c - threads cancelled while blocked inside wrapped calls, and
 * 1,000 threads created and joined with nested locks taken in between. Each
 * round, four victims block: in pthread_cond_wait (a cleanup handler unlocks
 * the mutex the cancelled wait re-acquired), in sem_wait, in pthread_join of
 * a thread that never ends by itself, and in a timed cond wait; the main
 * thread cancels and joins them all. Locks are always taken in one order
 * (outer, then inner) and every thread is joined, so nothing is wrong:
 * Expected: no finding.
 */
#include <semaphore.h>
#include <time.h>
#include <unistd.h>

#include "prog_util.h"

#define ROUNDS 50
#define CHURN_PER_ROUND 20 /* 50 x 20 = 1,000 short threads */

static pthread_mutex_t outer = PTHREAD_MUTEX_INITIALIZER; /* always before inner */
static pthread_mutex_t inner = PTHREAD_MUTEX_INITIALIZER; /* guards counter */
static pthread_mutex_t wait_lock = PTHREAD_MUTEX_INITIALIZER; /* guards ready */
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;   /* nobody signals it */
static pthread_cond_t ready_cond = PTHREAD_COND_INITIALIZER;
static int ready;                                          /* victims about to block */
static sem_t empty_sem;                                    /* never posted */
static long counter;

static void announce(void)
{
    CHECK(pthread_mutex_lock(&wait_lock));
    ready++;
    CHECK(pthread_cond_broadcast(&ready_cond));
    CHECK(pthread_mutex_unlock(&wait_lock));
}

static void unlock_wait_lock(void *unused)
{
    (void)unused;
    CHECK(pthread_mutex_unlock(&wait_lock));
}

NOINLINE static void *blocked_in_cond_wait(void *timed)
{
    CHECK(pthread_mutex_lock(&wait_lock));
    ready++;
    CHECK(pthread_cond_broadcast(&ready_cond));
    pthread_cleanup_push(unlock_wait_lock, NULL);
    for (;;) {
        if (timed) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 3600;
            pthread_cond_timedwait(&never, &wait_lock, &ts);
        } else {
            pthread_cond_wait(&never, &wait_lock);
        }
    }
    pthread_cleanup_pop(1);
    return NULL;
}

NOINLINE static void *blocked_in_sem_wait(void *unused)
{
    (void)unused;
    announce();
    for (;;)
        sem_wait(&empty_sem);
    return NULL;
}

NOINLINE static void *sleeper(void *unused)
{
    (void)unused;
    for (;;)
        pause();
    return NULL;
}

NOINLINE static void *blocked_in_join(void *target)
{
    announce();
    pthread_join(*(pthread_t *)target, NULL);
    return NULL;
}

NOINLINE static void *churn(void *arg)
{
    CHECK(pthread_mutex_lock(&outer));
    CHECK(pthread_mutex_lock(&inner));
    counter += (long)arg;
    CHECK(pthread_mutex_unlock(&inner));
    CHECK(pthread_mutex_unlock(&outer));
    return NULL;
}

static void wait_ready(int n)
{
    CHECK(pthread_mutex_lock(&wait_lock));
    while (ready < n)
        CHECK(pthread_cond_wait(&ready_cond, &wait_lock));
    ready = 0;
    CHECK(pthread_mutex_unlock(&wait_lock));
}

static void cancel_and_join(pthread_t t)
{
    void *ret;

    CHECK(pthread_cancel(t));
    CHECK(pthread_join(t, &ret));
    REQUIRE(ret == PTHREAD_CANCELED);
}

NOINLINE static void one_round(void)
{
    pthread_t cond_victim, timed_victim, sem_victim, join_victim, target;
    pthread_t churners[CHURN_PER_ROUND];

    CHECK(pthread_create(&target, NULL, sleeper, NULL));
    CHECK(pthread_create(&cond_victim, NULL, blocked_in_cond_wait, NULL));
    CHECK(pthread_create(&timed_victim, NULL, blocked_in_cond_wait, (void *)1));
    CHECK(pthread_create(&sem_victim, NULL, blocked_in_sem_wait, NULL));
    CHECK(pthread_create(&join_victim, NULL, blocked_in_join, &target));
    for (long i = 0; i < CHURN_PER_ROUND; i++)
        CHECK(pthread_create(&churners[i], NULL, churn, (void *)(i + 1)));
    for (int i = 0; i < CHURN_PER_ROUND; i++)
        CHECK(pthread_join(churners[i], NULL));
    wait_ready(4);
    /* Announced, then blocked: give them time to get into the wrapped call. */
    nanosleep(&(struct timespec){.tv_nsec = 2000000}, NULL);
    cancel_and_join(cond_victim);
    cancel_and_join(timed_victim);
    cancel_and_join(sem_victim);
    cancel_and_join(join_victim);
    cancel_and_join(target);
}

int main(void)
{
    CHECK_ERRNO(sem_init(&empty_sem, 0, 0));
    for (int r = 0; r < ROUNDS; r++)
        one_round();
    printf("counter %ld\n", counter);
    return 0;
}
