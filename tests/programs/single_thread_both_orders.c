/*
 * single_thread_both_orders.c - one thread takes lock_a then lock_b, and
 * later lock_b then lock_a. A single thread cannot deadlock with itself this
 * way, but the orders conflict and a second thread would deadlock: one
 * lock-order-inversion warning.
 */
#include "prog_util.h"

pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
int shared_value; /* protected by lock_a and lock_b */

NOINLINE void take_a_then_b(void)
{
    CHECK(pthread_mutex_lock(&lock_a));
    CHECK(pthread_mutex_lock(&lock_b));
    shared_value += 1;
    CHECK(pthread_mutex_unlock(&lock_b));
    CHECK(pthread_mutex_unlock(&lock_a));
}

NOINLINE void take_b_then_a(void)
{
    CHECK(pthread_mutex_lock(&lock_b));
    CHECK(pthread_mutex_lock(&lock_a));
    shared_value += 2;
    CHECK(pthread_mutex_unlock(&lock_a));
    CHECK(pthread_mutex_unlock(&lock_b));
}

int main(void)
{
    take_a_then_b();
    take_b_then_a();
    printf("single_thread_both_orders: value=%d\n", shared_value);
    return 0;
}
