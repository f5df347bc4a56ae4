/*
 * deadlock_self.c - main deadlocks on itself: relock_forever() holds
 * self_lock (a normal mutex) and locks it again with pthread_mutex_lock,
 * which never returns. Expected: one deadlock error (a cycle of one thread)
 * and one lock-misuse error (relock), both with relock_forever on a stack.
 * The test kills the program once the findings are there.
 */
#include "prog_util.h"

pthread_mutex_t self_lock = PTHREAD_MUTEX_INITIALIZER;

NOINLINE void relock_forever(void)
{
    CHECK(pthread_mutex_lock(&self_lock));
    CHECK(pthread_mutex_lock(&self_lock)); /* never returns */
    CHECK(pthread_mutex_unlock(&self_lock));
    CHECK(pthread_mutex_unlock(&self_lock));
}

int main(void)
{
    relock_forever();
    printf("deadlock_self: not reached\n");
    return 0;
}
