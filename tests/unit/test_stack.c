/*
 * test_stack.c - agent/stack.c: capture and interning. A thread captures with
 * glibc's backtrace() first and moves to libunwind's cached tracer after
 * TL_STACK_FAST_AFTER captures, if a slot is free; both must give the same
 * frames, or one call site would become two allocation sites mid-run.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "stack.h"

#define CAPTURES (3 * TL_STACK_FAST_AFTER)
#define THREADS (TL_STACK_FAST_THREADS + 4)

/*
 * The frames below the capture itself: the innermost frame is a return
 * address inside stack.c, which differs between the two tracers (there is
 * no agent text range to drop it in a unit test).
 */
static int same_callers(const struct tl_stack *a, const struct tl_stack *b)
{
    return a && b && a->depth == b->depth && a->depth > 2 &&
           memcmp(&a->pc[1], &b->pc[1], (a->depth - 1) * sizeof a->pc[0]) == 0;
}

/* One call site, so every capture has the same callers. */
__attribute__((noinline)) static struct tl_stack *capture_here(void)
{
    struct tl_stack *s = tl_stack_capture();
    __asm__ volatile("" ::: "memory"); /* no tail call: this frame stays on the stack */
    return s;
}

/* Counts the captures whose callers differ from the first one's. */
static int differing_captures(void)
{
    struct tl_stack *first = NULL;
    int differ = 0;
    for (int i = 0; i < CAPTURES; i++) {
        struct tl_stack *s = capture_here(); /* one call site for the whole loop */
        if (!first)
            first = s;
        differ += !same_callers(first, s);
    }
    return differ;
}

static void test_stack_same_frames_before_and_after_the_switch(void **state)
{
    (void)state;
    int free_before = tl_stack_fast_slots_free();
    assert_int_equal(differing_captures(), 0);
    assert_int_equal(tl_stack_fast_slots_free(), free_before - 1); /* this thread switched */
    tl_stack_thread_exit();
    assert_int_equal(tl_stack_fast_slots_free(), free_before);
}

struct worker {
    pthread_barrier_t *all_captured; /* then the main thread counts the slots */
    pthread_barrier_t *counted;
    int differ;
};

static void *capture_then_exit(void *arg)
{
    struct worker *w = arg;
    w->differ = differing_captures();
    pthread_barrier_wait(w->all_captured);
    pthread_barrier_wait(w->counted);
    tl_stack_thread_exit();
    return NULL;
}

static void test_stack_slots_bounded_and_given_back(void **state)
{
    (void)state;
    assert_int_equal(tl_stack_fast_slots_free(), TL_STACK_FAST_THREADS);
    for (int round = 0; round < 2; round++) {
        pthread_barrier_t all_captured, counted;
        pthread_barrier_init(&all_captured, NULL, THREADS + 1);
        pthread_barrier_init(&counted, NULL, THREADS + 1);
        pthread_t tid[THREADS];
        struct worker w[THREADS];
        for (int i = 0; i < THREADS; i++) {
            w[i] = (struct worker){&all_captured, &counted, -1};
            assert_int_equal(pthread_create(&tid[i], NULL, capture_then_exit, &w[i]), 0);
        }
        pthread_barrier_wait(&all_captured);
        int free_while_alive = tl_stack_fast_slots_free();
        pthread_barrier_wait(&counted);
        for (int i = 0; i < THREADS; i++) {
            pthread_join(tid[i], NULL);
            assert_int_equal(w[i].differ, 0);
        }
        assert_int_equal(free_while_alive, 0); /* more threads than slots, all alive */
        pthread_barrier_destroy(&all_captured);
        pthread_barrier_destroy(&counted);
        assert_int_equal(tl_stack_fast_slots_free(), TL_STACK_FAST_THREADS);
    }
}

static void test_stack_equal_stacks_interned_once(void **state)
{
    (void)state;
    uintptr_t pcs[] = {0x1000, 0x2000, 0x3000};
    struct tl_stack *a = tl_stack_intern(pcs, 3);
    struct tl_stack *b = tl_stack_intern(pcs, 3);
    struct tl_stack *c = tl_stack_intern(pcs, 2);
    assert_non_null(a);
    assert_ptr_equal(a, b);
    assert_ptr_not_equal(a, c);
    assert_int_equal(c->depth, 2);
}

int main(void)
{
    tl_stack_init(TL_STACK_MAX, 0, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stack_same_frames_before_and_after_the_switch),
        cmocka_unit_test(test_stack_slots_bounded_and_given_back),
        cmocka_unit_test(test_stack_equal_stacks_interned_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
