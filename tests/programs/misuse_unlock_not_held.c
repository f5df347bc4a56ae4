/*
 * misuse_unlock_not_held.c - unlock_not_held() unlocks lock_m, which no
 * thread holds. glibc lets a normal (default) mutex be unlocked this way and
 * returns 0, so the bug is silent: one lock-misuse error whose site is in
 * unlock_not_held. lock_m is not used again (its user count is now off).
 */
#include "prog_util.h"

pthread_mutex_t lock_m = PTHREAD_MUTEX_INITIALIZER;

NOINLINE void *unlock_not_held(void *arg)
{
    int *rc = arg;
    *rc = pthread_mutex_unlock(&lock_m);
    return NULL;
}

int main(void)
{
    int rc = -1;
    run_thread(unlock_not_held, &rc);
    printf("misuse_unlock_not_held: unlock returned %d\n", rc);
    return 0;
}
