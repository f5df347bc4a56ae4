/*
 * abba.h - the ABBA pair shared by abba_two_threads, fork_child and
 * exec_child: thread_a takes lock_a then lock_b; thread_b takes lock_b then
 * lock_a. run_abba() runs them one after the other, so nothing deadlocks but
 * both orders were taken by two threads. Include once per program.
 */
#ifndef TL_PROG_ABBA_H
#define TL_PROG_ABBA_H

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

/* Returns the shared value after both threads ran (3). */
static int run_abba(void)
{
    run_thread(thread_a, NULL);
    run_thread(thread_b, NULL);
    return shared_value;
}

#endif
