/*
 * misuse_destroy_held.c - destroy_while_held() destroys lock_m while it holds
 * it: one lock-misuse error whose site is in destroy_while_held. glibc refuses
 * (EBUSY) and the mutex stays locked and valid, so the thread then unlocks it
 * normally and main destroys it properly after the join.
 */
#include "prog_util.h"

pthread_mutex_t lock_m = PTHREAD_MUTEX_INITIALIZER;

NOINLINE void *destroy_while_held(void *arg)
{
    int *rc = arg;
    CHECK(pthread_mutex_lock(&lock_m));
    *rc = pthread_mutex_destroy(&lock_m);
    if (*rc == EBUSY)
        CHECK(pthread_mutex_unlock(&lock_m));
    return NULL;
}

int main(void)
{
    int rc = -1;
    run_thread(destroy_while_held, &rc);
    if (rc == EBUSY)
        CHECK(pthread_mutex_destroy(&lock_m));
    printf("misuse_destroy_held: destroy returned %s\n", rc == EBUSY ? "EBUSY" : strerror(rc));
    return 0;
}
