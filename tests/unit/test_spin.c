/*
 * test_spin.c - agent/spin.c: the agent's internal lock under contention.
 * More threads than this machine has cores, each holder yielding inside, so
 * waiters go past the spin and sleep on the futex.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "spin.h"

#define THREADS 6
#define ROUNDS 20000

static struct tl_spin lock = TL_SPIN_INIT;
static long counter;       /* plain: only the lock keeps the increments whole */
static int inside;         /* threads inside at once, never more than one */
static int errno_changed;  /* a thread saw its errno change across lock or unlock */

static void *hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        errno = 4321;
        tl_spin_lock(&lock);
        if (errno != 4321)
            __atomic_store_n(&errno_changed, 1, __ATOMIC_RELAXED);
        if (__atomic_add_fetch(&inside, 1, __ATOMIC_RELAXED) != 1)
            __atomic_store_n(&errno_changed, 2, __ATOMIC_RELAXED);
        long c = counter;
        if (i % 64 == 0)
            sched_yield(); /* preempted while holding: the others must wait */
        counter = c + 1;
        __atomic_sub_fetch(&inside, 1, __ATOMIC_RELAXED);
        errno = 1234;
        tl_spin_unlock(&lock);
        if (errno != 1234)
            __atomic_store_n(&errno_changed, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void test_spin_excludes_and_keeps_errno_under_contention(void **state)
{
    (void)state;
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(counter, (long)THREADS * ROUNDS);
    assert_int_equal(errno_changed, 0);
    assert_int_equal(atomic_load(&lock.locked), 0); /* free, and no sleeper marked */
}

static void test_spin_reset_frees_a_lock_held_by_a_vanished_thread(void **state)
{
    (void)state;
    struct tl_spin s = TL_SPIN_INIT;
    tl_spin_lock(&s);
    tl_spin_reset(&s); /* as a fork child does */
    tl_spin_lock(&s);
    tl_spin_unlock(&s);
    assert_int_equal(atomic_load(&s.locked), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spin_excludes_and_keeps_errno_under_contention),
        cmocka_unit_test(test_spin_reset_frees_a_lock_held_by_a_vanished_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
