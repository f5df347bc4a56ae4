/*
 * misuse_relock.c - relock_owner() holds lock_m (a normal mutex) and locks it
 * again. With pthread_mutex_lock that would hang forever; the timedlock gives
 * up after 100 ms with ETIMEDOUT, so the program ends. Expected: one
 * lock-misuse error whose site is in relock_owner.
 */
#include "prog_util.h"

#include <time.h>

pthread_mutex_t lock_m = PTHREAD_MUTEX_INITIALIZER;

NOINLINE void *relock_owner(void *arg)
{
    int *rc = arg;
    struct timespec deadline;

    CHECK(pthread_mutex_lock(&lock_m));
    REQUIRE(clock_gettime(CLOCK_REALTIME, &deadline) == 0);
    deadline.tv_nsec += 100 * 1000 * 1000;
    if (deadline.tv_nsec >= 1000 * 1000 * 1000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000 * 1000 * 1000;
    }
    *rc = pthread_mutex_timedlock(&lock_m, &deadline);
    if (*rc == 0) /* not expected on a normal mutex, but keep the count right */
        CHECK(pthread_mutex_unlock(&lock_m));
    CHECK(pthread_mutex_unlock(&lock_m));
    return NULL;
}

int main(void)
{
    int rc = -1;
    run_thread(relock_owner, &rc);
    printf("misuse_relock: timedlock returned %s\n",
           rc == ETIMEDOUT ? "ETIMEDOUT" : strerror(rc));
    return 0;
}
