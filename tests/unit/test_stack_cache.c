/*
 * test_stack_cache.c - agent/stack_cache.c: a thread's last unwind, reused
 * while its frames are still on the stack. `interposer` plays the agent's
 * interposer: it takes its caller's frame (TL_CALLER()) and unwinds from it.
 * The callers below are noipa, so that none is inlined or merged with its
 * twin, and each keeps a frame of its own.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "stack.h"
#include "stack_cache.h"

/* What the cache answered, and a plain unwind from the same frame: the answer it must equal. */
struct unwound {
    struct tl_caller from;
    int n, nwant;
    struct tl_frame frames[TL_STACK_MAX], want[TL_STACK_MAX];
};

static struct tl_stack_cache *cache;

__attribute__((noipa)) static void interposer(struct unwound *u)
{
    u->from = TL_CALLER();
    u->n = tl_stack_cache_unwind(cache, u->from, u->frames, TL_STACK_MAX);
    struct tl_frame all[TL_STACK_MAX];
    int n = tl_stack_unwind(all, TL_STACK_MAX), k = 0;
    while (k < n && all[k].sp != u->from.cfa)
        k++;
    u->nwant = n - k;
    memcpy(u->want, all + k, (size_t)u->nwant * sizeof all[0]);
    __asm__ volatile("" ::: "memory");
}

/* Takes the lock from one call site or another: the same frame, a different return address. */
__attribute__((noipa)) static void take(struct unwound *u, int site)
{
    /* Different code after each call, or the compiler makes them one call. */
    if (site) {
        interposer(u);
        __asm__ volatile("nop" ::: "memory");
    } else {
        interposer(u);
        __asm__ volatile("nop; nop" ::: "memory");
    }
}

/* Two callers of `take` with the same frame size: `take` lands at the same place from both. */
__attribute__((noipa)) static void via_first(struct unwound *u, int site)
{
    take(u, site);
    __asm__ volatile("" ::: "memory");
}

__attribute__((noipa)) static void via_second(struct unwound *u, int site)
{
    take(u, site);
    __asm__ volatile("" ::: "memory");
}

static void run(struct unwound *u, int second, int site)
{
    memset(u, 0, sizeof *u);
    if (second)
        via_second(u, site);
    else
        via_first(u, site);
}

/* Whether the cached answer equals the plain one, pc and sp (no assert: threads call it too). */
static int same_as_plain(const struct unwound *u)
{
    if (u->n < 4 || u->n != u->nwant || u->frames[0].pc != u->from.pc) /* take, via_*, run... */
        return 0;
    for (int i = 0; i < u->n; i++)
        if (u->frames[i].pc != u->want[i].pc || u->frames[i].sp != u->want[i].sp)
            return 0;
    return 1;
}

/*
 * Unwinds from each (caller, call site) of `steps` in turn, all from one call
 * site here, and says which were reused. noipa, and `n` unknown to the
 * compiler: a loop unrolled, or this inlined into each test, would give each
 * step a call site, outer frames, of its own (it did under ASan). Returns
 * how many answers differed from a plain unwind.
 */
__attribute__((noipa)) static int unwind_steps(const int (*steps)[2], int n, unsigned *reused)
{
    int wrong = 0;
    struct unwound u;
    tl_stack_cache_reset(cache);
    for (int i = 0; i < n; i++) {
        unsigned before = cache->reused;
        run(&u, steps[i][0], steps[i][1]);
        reused[i] = cache->reused - before;
        wrong += !same_as_plain(&u);
    }
    return wrong;
}

static void test_stack_cache_reused_when_the_stack_is_the_same(void **state)
{
    (void)state;
    const int steps[][2] = {{0, 0}, {0, 0}, {0, 0}};
    unsigned reused[3];
    assert_int_equal(unwind_steps(steps, 3, reused), 0);
    assert_int_equal(reused[0], 0); /* nothing kept yet */
    assert_int_equal(reused[1], 1);
    assert_int_equal(reused[2], 1);
}

static void test_stack_cache_another_call_site_unwinds_again_and_both_are_kept(void **state)
{
    (void)state;
    /* The second takes the lock from another line of take(): another return address. */
    const int steps[][2] = {{0, 0}, {0, 1}, {0, 1}, {0, 0}};
    unsigned reused[4];
    assert_int_equal(unwind_steps(steps, 4, reused), 0);
    assert_int_equal(reused[1], 0);
    assert_int_equal(reused[2], 1);
    assert_int_equal(reused[3], 1); /* the first site's unwind is kept beside the second's */
}

static void test_stack_cache_same_place_other_callers_unwinds_again(void **state)
{
    (void)state;
    struct unwound u[2];
    tl_stack_cache_reset(cache);
    for (int second = 0; second < 2; second++)
        run(&u[second], second, 0);
    /* The point of the case: the innermost frame is at the same place both times. */
    assert_int_equal(u[0].from.pc, u[1].from.pc);
    assert_int_equal(u[0].from.cfa, u[1].from.cfa);
    assert_int_equal(cache->reused, 0);
    assert_int_not_equal(u[0].frames[1].pc, u[1].frames[1].pc); /* via_first, via_second */
    const int steps[][2] = {{0, 0}, {1, 0}, {1, 0}};
    unsigned reused[3];
    assert_int_equal(unwind_steps(steps, 3, reused), 0); /* the frames right each time */
    assert_int_equal(reused[1], 0);
    assert_int_equal(reused[2], 1);
}

struct on_thread {
    unsigned reused[3];
    int wrong;
};

static void *steps_on_a_thread(void *arg)
{
    struct on_thread *t = arg;
    const int steps[][2] = {{0, 0}, {0, 0}, {0, 0}};
    t->wrong = unwind_steps(steps, 3, t->reused);
    return NULL;
}

/* A thread's stack ends at its descriptor; the initial thread's elsewhere (stack_cache.c). */
static void test_stack_cache_reused_on_a_thread_of_its_own(void **state)
{
    (void)state;
    struct on_thread t = {{0}, 0};
    pthread_t tid;
    assert_int_equal(pthread_create(&tid, NULL, steps_on_a_thread, &t), 0);
    pthread_join(tid, NULL);
    assert_int_equal(t.wrong, 0);
    assert_int_equal(t.reused[0], 0);
    assert_int_equal(t.reused[1], 1);
    assert_int_equal(t.reused[2], 1);
}

static void test_stack_cache_from_not_on_the_stack_is_a_plain_unwind(void **state)
{
    (void)state;
    tl_stack_cache_reset(cache);
    struct tl_frame frames[TL_STACK_MAX], all[TL_STACK_MAX];
    struct tl_caller nowhere = {0x1234, 0x5678};
    int n = tl_stack_cache_unwind(cache, nowhere, frames, TL_STACK_MAX);
    int m = tl_stack_unwind(all, TL_STACK_MAX);
    /* The same frames, but for tl_stack_cache_unwind's own, which the first has in addition. */
    assert_int_equal(n, m + 1);
    for (int i = 1; i < m; i++)
        assert_int_equal(frames[i + 1].pc, all[i].pc);
    for (int i = 0; i < TL_STACK_CACHE_SITES; i++)
        assert_int_equal(cache->site[i].n, 0); /* nothing kept */
}

int main(void)
{
    tl_stack_init(TL_STACK_MAX, 0, 0);
    cache = tl_stack_cache_new();
    if (!cache)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stack_cache_reused_when_the_stack_is_the_same),
        cmocka_unit_test(test_stack_cache_another_call_site_unwinds_again_and_both_are_kept),
        cmocka_unit_test(test_stack_cache_same_place_other_callers_unwinds_again),
        cmocka_unit_test(test_stack_cache_reused_on_a_thread_of_its_own),
        cmocka_unit_test(test_stack_cache_from_not_on_the_stack_is_a_plain_unwind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
