/*
 * stress_exit_race.c - exit() racing with running threads. Four detached
 * threads each lock their own two mutexes in one order and allocate and free
 * in a loop that never ends; the main thread lets them run, then calls
 * exit(3) while they are inside wrapped calls. The agent's exit path must not
 * crash, hang or lose the run; detached threads still running at exit are
 * not a leak. The locks are per thread so that no thread is ever waiting at
 * the moment of exit: a contended wait caught by exit is reported as an info
 * blocked-thread ("still blocked at exit"), which would make the result
 * depend on timing.
 * Expected: no finding, exit status 3.
 */
#include <time.h>

#include "prog_util.h"

#define THREADS 4

struct spinner {
    pthread_mutex_t outer; /* always before inner */
    pthread_mutex_t inner; /* guards spins */
    long spins;
};

static struct spinner spinners[THREADS];

NOINLINE static void *spin(void *arg)
{
    struct spinner *s = arg;

    for (unsigned long i = 0;; i++) {
        void *p = malloc(32 + i % 1024);
        CHECK(pthread_mutex_lock(&s->outer));
        CHECK(pthread_mutex_lock(&s->inner));
        s->spins++;
        CHECK(pthread_mutex_unlock(&s->inner));
        CHECK(pthread_mutex_unlock(&s->outer));
        free(p);
    }
    return NULL;
}

int main(void)
{
    pthread_attr_t attr;

    CHECK(pthread_attr_init(&attr));
    CHECK(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED));
    for (int i = 0; i < THREADS; i++) {
        pthread_t t;
        CHECK(pthread_mutex_init(&spinners[i].outer, NULL));
        CHECK(pthread_mutex_init(&spinners[i].inner, NULL));
        CHECK(pthread_create(&t, &attr, spin, &spinners[i]));
    }
    CHECK(pthread_attr_destroy(&attr));
    nanosleep(&(struct timespec){.tv_nsec = 300 * 1000 * 1000}, NULL);
    puts("exiting while the threads run");
    fflush(stdout);
    exit(3);
}
