/*
 * thread_leaks.c - threads that are never joined nor detached, from two
 * creation sites, next to threads that are handled correctly.
 *
 *   spawn_leakers   one pthread_create call site, run N_LEAKERS times:
 *                   leaker_returns returns at once and is never joined nor
 *                   detached (zombies): one thread-leak warning for the site
 *   spawn_sleeper   sleeper_waits_forever waits on never_signalled, is never
 *                   joined and is still blocked when main returns: a second
 *                   thread-leak warning, and a blocked-thread info (blocked
 *                   at exit)
 *   spawn_detached  detached_returns is detached: never a leak
 *   spawn_joined    joined_returns is joined: never a leak
 *
 * main then sleeps SETTLE_MS so that every short thread has finished, and
 * returns 0; the thread calling exit() is not a leak.
 */
#include "prog_util.h"

#include <time.h>

#define N_LEAKERS 3
#define SETTLE_MS 300

pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t never_signalled = PTHREAD_COND_INITIALIZER;
int wake_up; /* protected by sleep_lock; never set */

NOINLINE void *leaker_returns(void *arg)
{
    return arg;
}

NOINLINE void *sleeper_waits_forever(void *arg)
{
    CHECK(pthread_mutex_lock(&sleep_lock));
    while (!wake_up)
        CHECK(pthread_cond_wait(&never_signalled, &sleep_lock));
    CHECK(pthread_mutex_unlock(&sleep_lock));
    return arg;
}

NOINLINE void *detached_returns(void *arg)
{
    return arg;
}

NOINLINE void *joined_returns(void *arg)
{
    return arg;
}

NOINLINE void spawn_leakers(void)
{
    for (int i = 0; i < N_LEAKERS; i++) {
        pthread_t t;
        CHECK(pthread_create(&t, NULL, leaker_returns, NULL));
    }
}

NOINLINE void spawn_sleeper(void)
{
    pthread_t t;
    CHECK(pthread_create(&t, NULL, sleeper_waits_forever, NULL));
}

NOINLINE void spawn_detached(void)
{
    pthread_t t;
    CHECK(pthread_create(&t, NULL, detached_returns, NULL));
    CHECK(pthread_detach(t));
}

NOINLINE void spawn_joined(void)
{
    run_thread(joined_returns, NULL);
}

int main(void)
{
    struct timespec settle = {0, SETTLE_MS * 1000L * 1000L};

    spawn_leakers();
    spawn_sleeper();
    spawn_detached();
    spawn_joined();
    REQUIRE(nanosleep(&settle, NULL) == 0);
    printf("thread_leaks: %d leaked, 1 sleeping, 1 detached, 1 joined\n", N_LEAKERS);
    return 0;
}
