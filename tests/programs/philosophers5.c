/*
 * philosophers5.c - dining philosophers, 5 forks, each philosopher takes fork
 * i then fork (i+1)%5. They eat one at a time (each thread is joined before
 * the next starts), so nobody starves, but the lock-order graph is the ring
 * 0->1->2->3->4->0 and has no shorter cycle. Expected: exactly one
 * lock-order-inversion error with 5 edges.
 */
#include "prog_util.h"

#define N_PHILOSOPHERS 5

pthread_mutex_t forks[N_PHILOSOPHERS];
int meals[N_PHILOSOPHERS]; /* meals[i] protected by forks[i] */

NOINLINE void *philosopher(void *arg)
{
    int i = *(const int *)arg;
    int left = i;
    int right = (i + 1) % N_PHILOSOPHERS;

    CHECK(pthread_mutex_lock(&forks[left]));
    CHECK(pthread_mutex_lock(&forks[right]));
    meals[i]++;
    CHECK(pthread_mutex_unlock(&forks[right]));
    CHECK(pthread_mutex_unlock(&forks[left]));
    return NULL;
}

int main(void)
{
    int ids[N_PHILOSOPHERS];
    int total = 0;

    for (int i = 0; i < N_PHILOSOPHERS; i++)
        CHECK(pthread_mutex_init(&forks[i], NULL));
    for (int i = 0; i < N_PHILOSOPHERS; i++) {
        ids[i] = i;
        run_thread(philosopher, &ids[i]);
    }
    for (int i = 0; i < N_PHILOSOPHERS; i++) {
        total += meals[i];
        CHECK(pthread_mutex_destroy(&forks[i]));
    }
    printf("philosophers5: meals=%d\n", total);
    return 0;
}
