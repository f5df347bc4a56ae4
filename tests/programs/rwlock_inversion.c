/*
 * rwlock_inversion.c - an inversion between a rwlock and a mutex where one
 * side writes. thread_writer takes wrlock(rw) then lock(m); thread_reader,
 * started after thread_writer was joined, takes lock(m) then rdlock(rw). A
 * reader waiting for rw blocks behind a writer holding it, so this can
 * deadlock: one lock-order-inversion error.
 */
#include "prog_util.h"

pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
int config_value; /* written under rw (write) + m, read under rw (read) */

NOINLINE void *thread_writer(void *arg)
{
    (void)arg;
    CHECK(pthread_rwlock_wrlock(&rw));
    CHECK(pthread_mutex_lock(&m));
    config_value = 42;
    CHECK(pthread_mutex_unlock(&m));
    CHECK(pthread_rwlock_unlock(&rw));
    return NULL;
}

NOINLINE void *thread_reader(void *arg)
{
    int *out = arg;
    CHECK(pthread_mutex_lock(&m));
    CHECK(pthread_rwlock_rdlock(&rw));
    *out = config_value;
    CHECK(pthread_rwlock_unlock(&rw));
    CHECK(pthread_mutex_unlock(&m));
    return NULL;
}

int main(void)
{
    int seen = 0;
    run_thread(thread_writer, NULL);
    run_thread(thread_reader, &seen);
    printf("rwlock_inversion: seen=%d\n", seen);
    return 0;
}
