/*
 * rwlock_read_read.c - the same two orders as rwlock_inversion, but both
 * threads only read rw: thread_reader_1 takes rdlock(rw) then lock(m);
 * thread_reader_2 takes lock(m) then rdlock(rw). Two readers never block each
 * other on rw (glibc's default rwlock prefers readers), so the cycle cannot
 * deadlock: no finding.
 */
#include "prog_util.h"

pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
int config_value = 7; /* read-only after start */
int reads;            /* protected by m */

NOINLINE void *thread_reader_1(void *arg)
{
    (void)arg;
    CHECK(pthread_rwlock_rdlock(&rw));
    CHECK(pthread_mutex_lock(&m));
    reads += config_value;
    CHECK(pthread_mutex_unlock(&m));
    CHECK(pthread_rwlock_unlock(&rw));
    return NULL;
}

NOINLINE void *thread_reader_2(void *arg)
{
    (void)arg;
    CHECK(pthread_mutex_lock(&m));
    CHECK(pthread_rwlock_rdlock(&rw));
    reads += config_value;
    CHECK(pthread_rwlock_unlock(&rw));
    CHECK(pthread_mutex_unlock(&m));
    return NULL;
}

int main(void)
{
    run_thread(thread_reader_1, NULL);
    run_thread(thread_reader_2, NULL);
    printf("rwlock_read_read: reads=%d\n", reads);
    return 0;
}
