/*
 * abba_c11.c - abba_two_threads with C11 <threads.h>: mtx_t, thrd_create,
 * thrd_join. glibc implements these without calling the pthread symbols, so
 * this checks that the agent wraps them in their own right. Expected: one
 * lock-order-inversion error naming thread_a and thread_b.
 */
#include "prog_util.h"

#include <threads.h>

#define CHECK_THRD(call)                                                                 \
    do {                                                                                 \
        if ((call) != thrd_success) {                                                    \
            fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #call);            \
            abort();                                                                     \
        }                                                                                \
    } while (0)

mtx_t lock_a;
mtx_t lock_b;
int shared_value; /* protected by lock_a and lock_b */

NOINLINE int thread_a(void *arg)
{
    (void)arg;
    CHECK_THRD(mtx_lock(&lock_a));
    CHECK_THRD(mtx_lock(&lock_b));
    shared_value += 1;
    CHECK_THRD(mtx_unlock(&lock_b));
    CHECK_THRD(mtx_unlock(&lock_a));
    return 0;
}

NOINLINE int thread_b(void *arg)
{
    (void)arg;
    CHECK_THRD(mtx_lock(&lock_b));
    CHECK_THRD(mtx_lock(&lock_a));
    shared_value += 2;
    CHECK_THRD(mtx_unlock(&lock_a));
    CHECK_THRD(mtx_unlock(&lock_b));
    return 0;
}

static void run_thrd(thrd_start_t fn)
{
    thrd_t t;
    int res = -1;
    CHECK_THRD(thrd_create(&t, fn, NULL));
    CHECK_THRD(thrd_join(t, &res));
    REQUIRE(res == 0);
}

int main(void)
{
    CHECK_THRD(mtx_init(&lock_a, mtx_plain));
    CHECK_THRD(mtx_init(&lock_b, mtx_plain));
    run_thrd(thread_a);
    run_thrd(thread_b);
    mtx_destroy(&lock_b);
    mtx_destroy(&lock_a);
    printf("abba_c11: value=%d\n", shared_value);
    return 0;
}
