/*
 * test_stack.c - agent/stack.c: capture and interning. A thread captures with
 * libgcc's unwinder first and moves to libunwind's cached tracer after
 * TL_STACK_FAST_AFTER captures, once the collector has loaded it (which it
 * does only when a thread asked) and if a slot is free; both must give the
 * same frames, or one call site would become two allocation sites mid-run.
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
 * Whether two captures from one call site have the same callers: their
 * frames agree from the outermost in, all but the innermost. Those lie in
 * stack.c (a return address after each tracer's call; a unit test has no
 * agent text range to drop them).
 */
static int same_callers(const struct tl_stack *a, const struct tl_stack *b)
{
    if (!a || !b || a->depth < 3 || b->depth < 3)
        return 0;
    unsigned n = (a->depth < b->depth ? a->depth : b->depth) - 1;
    for (unsigned j = 0; j < n; j++)
        if (a->pc[a->depth - 1 - j] != b->pc[b->depth - 1 - j])
            return 0;
    return 1;
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

static void test_stack_no_switch_until_the_tracer_is_loaded(void **state)
{
    (void)state;
    tl_stack_load_fast(); /* the collector's tick before any thread asked: loads nothing */
    assert_int_equal(differing_captures(), 0);
    assert_int_equal(tl_stack_fast_slots_free(), TL_STACK_FAST_THREADS); /* asked, not switched */
}

static void test_stack_same_frames_before_and_after_the_switch(void **state)
{
    (void)state;
    tl_stack_load_fast(); /* the collector's next tick: a thread asked */
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

static uintptr_t unwind_cfa; /* unwind_and_capture's CFA */

/* Unwinds with stack pointers and captures from one place; noinline keeps both frames. */
__attribute__((noinline)) static int unwind_and_capture(struct tl_frame *frames, int max,
                                                        struct tl_stack **captured)
{
    unwind_cfa = (uintptr_t)__builtin_dwarf_cfa();
    int n = tl_stack_unwind(frames, max);
    *captured = tl_stack_capture();
    __asm__ volatile("" ::: "memory");
    return n;
}

__attribute__((noinline)) static int one_level_down(struct tl_frame *frames, int max,
                                                    struct tl_stack **captured)
{
    int n = unwind_and_capture(frames, max, captured);
    __asm__ volatile("" ::: "memory");
    return n;
}

static void test_stack_unwind_frames_match_capture_and_climb(void **state)
{
    (void)state;
    struct tl_frame frames[TL_STACK_MAX];
    struct tl_stack *captured;
    int n = one_level_down(frames, TL_STACK_MAX, &captured);
    assert_true(n >= 3);
    /*
     * frames[0] and the capture's innermost frames are return addresses into
     * unwind_and_capture from its two calls and into stack.c; from
     * one_level_down outwards the two must agree.
     */
    assert_true(captured->depth >= (unsigned)n);
    for (int j = 0; j < n - 1; j++)
        assert_int_equal(frames[n - 1 - j].pc, captured->pc[captured->depth - 1 - j]);
    for (int i = 1; i < n; i++)
        assert_true(frames[i].sp > frames[i - 1].sp); /* the stack grows down */
    /* A frame's sp is its callee's CFA: what tl_stack_of_held compares with TL_CALLER(). */
    assert_int_equal(frames[1].sp, unwind_cfa);
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
        cmocka_unit_test(test_stack_no_switch_until_the_tracer_is_loaded),
        cmocka_unit_test(test_stack_same_frames_before_and_after_the_switch),
        cmocka_unit_test(test_stack_slots_bounded_and_given_back),
        cmocka_unit_test(test_stack_unwind_frames_match_capture_and_climb),
        cmocka_unit_test(test_stack_equal_stacks_interned_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
