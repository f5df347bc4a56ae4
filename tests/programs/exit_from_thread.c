/*
 * exit_from_thread.c - exit() called by a thread other than main ends the
 * process with that status while main is still blocked in join. The agent
 * must flush what it saw (one lock-order-inversion error) and keep the status;
 * main, still blocked in pthread_join at exit, is a blocked-thread (info).
 */
#include "prog_util.h"

#include <stdlib.h>

pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;

NOINLINE void *first_order(void *arg)
{
    (void)arg;
    CHECK(pthread_mutex_lock(&lock_a));
    CHECK(pthread_mutex_lock(&lock_b));
    CHECK(pthread_mutex_unlock(&lock_b));
    CHECK(pthread_mutex_unlock(&lock_a));
    return NULL;
}

NOINLINE void *second_order_then_exit(void *arg)
{
    (void)arg;
    CHECK(pthread_mutex_lock(&lock_b));
    CHECK(pthread_mutex_lock(&lock_a));
    CHECK(pthread_mutex_unlock(&lock_a));
    CHECK(pthread_mutex_unlock(&lock_b));
    printf("exit_from_thread: exiting with 7\n");
    exit(7);
}

int main(void)
{
    pthread_t t;
    run_thread(first_order, NULL);
    CHECK(pthread_create(&t, NULL, second_order_then_exit, NULL));
    pthread_join(t, NULL); /* never returns: the thread exits the process */
    return 0;
}
