/*
 * misuse_exit_holding.c - exit_holding() locks lock_m and returns without
 * unlocking it; main joins the thread and never touches lock_m again.
 * Expected: one lock-misuse error (the lock was acquired in exit_holding).
 */
#include "prog_util.h"

pthread_mutex_t lock_m = PTHREAD_MUTEX_INITIALIZER;
int shared_value; /* protected by lock_m */

NOINLINE void *exit_holding(void *arg)
{
    (void)arg;
    CHECK(pthread_mutex_lock(&lock_m));
    shared_value = 1;
    return NULL; /* still holding lock_m */
}

int main(void)
{
    run_thread(exit_holding, NULL);
    printf("misuse_exit_holding: value=%d\n", shared_value);
    return 0;
}
