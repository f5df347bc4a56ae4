/*
 * abba_two_threads.c - the classic ABBA inversion. thread_a takes lock_a then
 * lock_b; thread_b, started only after thread_a was joined, takes lock_b then
 * lock_a. Nothing deadlocks, but two threads took the two orders, so
 * threadlens must report one lock-order-inversion error.
 */
#include "abba.h"

int main(void)
{
    printf("abba_two_threads: value=%d\n", run_abba());
    return 0;
}
