/*
 * main_pthread_exit.c - the process ends when its last thread does. main
 * takes lock_a then lock_b, starts a detached worker and calls pthread_exit;
 * the worker, alone in the process, takes lock_b then lock_a and returns, and
 * glibc exits the process with status 0. threadlens must still flush the
 * worker's inversion (one lock-order-inversion error) before the process ends.
 */
#include "prog_util.h"

#include <unistd.h>

pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;

NOINLINE void *late_worker(void *arg)
{
    (void)arg;
    usleep(100 * 1000); /* main has long gone when this runs */
    CHECK(pthread_mutex_lock(&lock_b));
    CHECK(pthread_mutex_lock(&lock_a));
    CHECK(pthread_mutex_unlock(&lock_a));
    CHECK(pthread_mutex_unlock(&lock_b));
    printf("main_pthread_exit: worker done\n");
    return NULL;
}

NOINLINE void take_a_then_b(void)
{
    CHECK(pthread_mutex_lock(&lock_a));
    CHECK(pthread_mutex_lock(&lock_b));
    CHECK(pthread_mutex_unlock(&lock_b));
    CHECK(pthread_mutex_unlock(&lock_a));
}

int main(void)
{
    pthread_t worker;
    take_a_then_b();
    CHECK(pthread_create(&worker, NULL, late_worker, NULL));
    CHECK(pthread_detach(worker));
    printf("main_pthread_exit: main leaves\n");
    fflush(stdout);
    pthread_exit(NULL);
}
