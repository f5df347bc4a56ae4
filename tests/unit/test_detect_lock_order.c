/*
 * test_detect_lock_order.c - agent/detect_lock_order.c: lock-order inversions
 * from acquisitions. The cases drive tl_lock_order_on_acquire() with thread
 * records they fill themselves (as lockops.c would: on_acquire, then push on
 * held[]) and read findings off the publish queue, as the collector does.
 * Graph, lockmap and queue are process-global: each case makes its own locks
 * and drains the queue first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "detect_lock_order.h"
#include "finding.h"
#include "lockgraph.h"
#include "lockmap.h"
#include "log.h"
#include "publish.h"
#include "stack.h"
#include "thread.h"

#define R TL_MODE_READ
#define W TL_MODE_WRITE

static struct tl_thread t1, t2, t3;

static struct tl_lock *new_lock(enum tl_lock_kind kind)
{
    static uintptr_t next = 0x570000001000ull;
    next += 64;
    struct tl_lock *l = tl_lockmap_get(next, kind, 1, 0);
    assert_non_null(l);
    return l;
}

static void acquire(struct tl_thread *t, struct tl_lock *l, int mode)
{
    tl_lock_order_on_acquire(t, l, mode, NULL);
    assert_true(t->nheld < TL_MAX_HELD);
    t->held[t->nheld++] = (struct tl_held){.lock = l, .addr = l->addr, .mode = (uint8_t)mode};
}

/* A successful trylock: held, but no order recorded into the tried lock. */
static void acquire_try(struct tl_thread *t, struct tl_lock *l, int mode)
{
    t->held[t->nheld++] =
        (struct tl_held){.lock = l, .addr = l->addr, .mode = (uint8_t)mode, .trylock = 1};
}

static void release_all(struct tl_thread *t)
{
    t->nheld = 0;
}

/* One critical section: `first`, then `second` nested in it, then release both. */
static void take_in_order(struct tl_thread *t, struct tl_lock *first, int first_mode,
                          struct tl_lock *second, int second_mode)
{
    acquire(t, first, first_mode);
    acquire(t, second, second_mode);
    release_all(t);
}

/* The same, nested in `gate` (write): `gate` is held across the edge, then released too. */
static void take_gated(struct tl_thread *t, struct tl_lock *gate, struct tl_lock *first,
                       struct tl_lock *second)
{
    acquire(t, gate, W);
    take_in_order(t, first, W, second, W);
}

/* Takes the publish queue; returns its findings, oldest first (none kept when out is NULL). */
static int take_findings(struct tl_finding **out, int max)
{
    int n = 0;
    struct tl_pub *p = tl_publish_take_all();
    while (p) {
        struct tl_pub *next = p->next;
        tl_publish_done(p);
        if (p->type == TL_PUB_FINDING && out) {
            assert_true(n < max);
            out[n++] = tl_container_of(p, struct tl_finding, pub);
        }
        p = next;
    }
    return n;
}

/* Checks f is a lock-order finding over exactly the edges expected[0..n), in that order. */
static void assert_cycle_finding(const struct tl_finding *f, struct tl_edge *const *expected,
                                 unsigned n)
{
    assert_int_equal(f->pub.type, TL_PUB_FINDING);
    assert_int_equal(f->kind, TL_FINDING_LOCK_ORDER);
    assert_int_equal(f->nitems, n);
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(f->items[i].role, TL_ROLE_EDGE);
        assert_ptr_equal(f->items[i].edge, expected[i]);
        assert_ptr_equal(f->items[i].lock, expected[i]->from);
        assert_int_equal(f->items[i].thread, expected[i]->thread);
    }
}

static int setup_group(void **state)
{
    (void)state;
    tl_log_set_level(TL_LOG_QUIET);
    tl_stack_init(24, 0, 0);
    if (tl_lockmap_init(16) < 0 || tl_graph_init(16) < 0)
        return -1;
    return 0;
}

static int setup_case(void **state)
{
    (void)state;
    memset(&t1, 0, sizeof t1);
    memset(&t2, 0, sizeof t2);
    memset(&t3, 0, sizeof t3);
    t1.id = 1;
    t2.id = 2;
    t3.id = 3;
    take_findings(NULL, 0);
    return 0;
}

static void test_detect_lock_order_abba_two_threads_error(void **state)
{
    (void)state;
    struct tl_lock *a = new_lock(TL_LOCK_MUTEX), *b = new_lock(TL_LOCK_MUTEX);
    struct tl_finding *f[8];

    take_in_order(&t1, a, W, b, W);
    assert_int_equal(take_findings(f, 8), 0);
    struct tl_edge *ab = tl_graph_find(a, b);
    assert_non_null(ab);
    assert_int_equal(ab->thread, t1.id);
    assert_int_equal(atomic_load(&ab->modes), TL_MODE_BIT(W, W));
    assert_non_null(ab->acquire_stack);

    take_in_order(&t2, b, W, a, W);
    struct tl_edge *ba = tl_graph_find(b, a);
    assert_non_null(ba);
    assert_int_equal(take_findings(f, 8), 1);
    /* The report starts at the lock seen first: a -> b, then b -> a. */
    assert_cycle_finding(f[0], (struct tl_edge *[]){ab, ba}, 2);
    assert_int_equal(f[0]->thread, t2.id);
    assert_int_equal(atomic_load(&f[0]->severity), TL_SEVERITY_ERROR);
    assert_int_equal(tl_lock_order_severity(f[0]), TL_SEVERITY_ERROR);
}

static void test_detect_lock_order_abba_one_thread_warning(void **state)
{
    (void)state;
    struct tl_lock *a = new_lock(TL_LOCK_MUTEX), *b = new_lock(TL_LOCK_MUTEX);
    struct tl_finding *f[8];
    take_in_order(&t1, a, W, b, W);
    take_in_order(&t1, b, W, a, W);
    assert_int_equal(take_findings(f, 8), 1);
    assert_cycle_finding(f[0], (struct tl_edge *[]){tl_graph_find(a, b), tl_graph_find(b, a)}, 2);
    assert_int_equal(atomic_load(&f[0]->severity), TL_SEVERITY_WARNING);
}

static void test_detect_lock_order_common_gate_info(void **state)
{
    (void)state;
    struct tl_lock *g = new_lock(TL_LOCK_MUTEX);
    struct tl_lock *a = new_lock(TL_LOCK_MUTEX), *b = new_lock(TL_LOCK_MUTEX);
    struct tl_finding *f[8];
    take_gated(&t1, g, a, b);
    take_gated(&t2, g, b, a);
    assert_int_equal(take_findings(f, 8), 1);
    assert_cycle_finding(f[0], (struct tl_edge *[]){tl_graph_find(a, b), tl_graph_find(b, a)}, 2);
    assert_int_equal(atomic_load(&f[0]->severity), TL_SEVERITY_INFO);
}

static void test_detect_lock_order_same_cycle_reported_once(void **state)
{
    (void)state;
    struct tl_lock *a = new_lock(TL_LOCK_RWLOCK), *b = new_lock(TL_LOCK_MUTEX);
    struct tl_finding *f[8];
    take_in_order(&t1, a, W, b, W);
    take_in_order(&t2, b, W, a, W);
    assert_int_equal(take_findings(f, 8), 1);

    /* The same orders again, from the same and from other threads. */
    for (int round = 0; round < 3; round++) {
        take_in_order(&t1, a, W, b, W);
        take_in_order(&t2, b, W, a, W);
        take_in_order(&t3, b, W, a, W);
    }
    assert_int_equal(take_findings(f, 8), 0);

    /* A new mode pair on a known edge re-runs the search; it finds the same cycle. */
    take_in_order(&t3, a, R, b, W);
    assert_int_equal(atomic_load(&tl_graph_find(a, b)->modes),
                     TL_MODE_BIT(W, W) | TL_MODE_BIT(R, W));
    assert_int_equal(take_findings(f, 8), 0);
}

static void test_detect_lock_order_trylock_adds_no_edge(void **state)
{
    (void)state;
    struct tl_lock *a = new_lock(TL_LOCK_MUTEX), *b = new_lock(TL_LOCK_MUTEX);
    struct tl_lock *c = new_lock(TL_LOCK_MUTEX);
    struct tl_finding *f[8];
    uint32_t edges_before = tl_graph_edge_count();
    /* lock(A); trylock(B) succeeds: the trylock could not have waited. */
    acquire(&t1, a, W);
    acquire_try(&t1, b, W);
    assert_null(tl_graph_find(a, b));
    assert_int_equal(tl_graph_edge_count(), edges_before);
    /* A blocking acquisition under both records both orders into it. */
    acquire(&t1, c, W);
    assert_non_null(tl_graph_find(a, c));
    assert_non_null(tl_graph_find(b, c));
    release_all(&t1);
    /* lock(B); lock(A) elsewhere is then no inversion. */
    take_in_order(&t2, b, W, a, W);
    assert_non_null(tl_graph_find(b, a));
    assert_int_equal(take_findings(f, 8), 0);
}

static void test_detect_lock_order_three_threads_cycle(void **state)
{
    (void)state;
    struct tl_lock *a = new_lock(TL_LOCK_MUTEX), *b = new_lock(TL_LOCK_MUTEX);
    struct tl_lock *c = new_lock(TL_LOCK_MUTEX);
    struct tl_finding *f[8];
    take_in_order(&t1, a, W, b, W);
    take_in_order(&t2, b, W, c, W);
    assert_int_equal(take_findings(f, 8), 0);
    take_in_order(&t3, c, W, a, W);
    assert_int_equal(take_findings(f, 8), 1);
    assert_cycle_finding(f[0],
                         (struct tl_edge *[]){tl_graph_find(a, b), tl_graph_find(b, c),
                                              tl_graph_find(c, a)},
                         3);
    assert_int_equal(atomic_load(&f[0]->severity), TL_SEVERITY_ERROR);
}

static void test_detect_lock_order_readers_no_finding(void **state)
{
    (void)state;
    struct tl_lock *a = new_lock(TL_LOCK_RWLOCK), *m = new_lock(TL_LOCK_MUTEX);
    struct tl_finding *f[8];
    /* rdlock(A); lock(M)  vs  lock(M); rdlock(A): A is shared, nothing waits. */
    take_in_order(&t1, a, R, m, W);
    take_in_order(&t2, m, W, a, R);
    assert_int_equal(take_findings(f, 8), 0);

    /* wrlock(A); lock(M): a new mode pair on A -> M, and now lock(M); rdlock(A) waits. */
    take_in_order(&t3, a, W, m, W);
    assert_int_equal(take_findings(f, 8), 1);
    assert_cycle_finding(f[0], (struct tl_edge *[]){tl_graph_find(a, m), tl_graph_find(m, a)}, 2);
}

static void test_detect_lock_order_relock_adds_no_self_edge(void **state)
{
    (void)state;
    struct tl_lock *a = new_lock(TL_LOCK_MUTEX);
    struct tl_finding *f[8];
    uint32_t edges_before = tl_graph_edge_count();
    acquire(&t1, a, W);
    acquire(&t1, a, W); /* recursive mutex */
    release_all(&t1);
    assert_null(tl_graph_find(a, a));
    assert_int_equal(tl_graph_edge_count(), edges_before);
    assert_int_equal(take_findings(f, 8), 0);

    /*
     * lockops.c does not call on_acquire for a recursive relock; called anyway
     * while another lock is held (so the new-facts path runs), it still must
     * not record a -> a. (b -> a is recorded: that is what on_acquire means.)
     */
    struct tl_lock *b = new_lock(TL_LOCK_MUTEX);
    acquire(&t1, a, W);
    take_in_order(&t1, b, W, a, W);
    assert_non_null(tl_graph_find(b, a));
    assert_null(tl_graph_find(a, a));
}

/* The collector re-evaluates severity; evidence on known edges must change it. */
static void test_detect_lock_order_severity_follows_evidence(void **state)
{
    (void)state;
    struct tl_finding *f[8];
    /* One thread, both orders: warning, until a second thread takes one of them. */
    struct tl_lock *a = new_lock(TL_LOCK_MUTEX), *b = new_lock(TL_LOCK_MUTEX);
    take_in_order(&t1, a, W, b, W);
    take_in_order(&t1, b, W, a, W);
    assert_int_equal(take_findings(f, 8), 1);
    struct tl_finding *single = f[0];
    assert_int_equal(tl_lock_order_severity(single), TL_SEVERITY_WARNING);
    take_in_order(&t2, a, W, b, W);
    assert_int_equal(atomic_load(&tl_graph_find(a, b)->multi), 1);
    assert_int_equal(tl_lock_order_severity(single), TL_SEVERITY_ERROR);
    assert_int_equal(take_findings(f, 8), 0); /* the edge is republished, no new finding */

    /* Gated: info, until one acquisition happens without the gate. */
    struct tl_lock *g = new_lock(TL_LOCK_MUTEX);
    struct tl_lock *c = new_lock(TL_LOCK_MUTEX), *d = new_lock(TL_LOCK_MUTEX);
    take_gated(&t1, g, c, d);
    take_gated(&t2, g, d, c);
    assert_int_equal(take_findings(f, 8), 1);
    struct tl_finding *gated = f[0];
    assert_int_equal(tl_lock_order_severity(gated), TL_SEVERITY_INFO);
    take_in_order(&t3, c, W, d, W);
    assert_int_equal(tl_lock_order_severity(gated), TL_SEVERITY_ERROR);
    assert_int_equal(take_findings(f, 8), 0);
}

/* The steady_out slots of `from` that name `to`: how many, and the thread of the last. */
static int steady_slots_naming(const struct tl_lock *from, const struct tl_lock *to,
                               uint32_t *thread)
{
    int n = 0;
    for (int i = 0; i < TL_LOCK_STEADY_OUT; i++) {
        uint64_t w = atomic_load(&from->steady_out[i]);
        if (w && (uint32_t)(w >> 32) == to->id) {
            n++;
            *thread = (uint32_t)(w >> 4) & TL_STEADY_THREAD_MAX;
        }
    }
    return n;
}

/*
 * A steady successor slot holds for the edge's own thread only, until a
 * second thread took the edge: that thread's acquisitions must still reach
 * the edge and mark it multi. A gated edge gets no slot: the acquisition
 * without the gate must still clear it.
 */
static void test_detect_lock_order_steady_successor_per_thread(void **state)
{
    (void)state;
    struct tl_lock *a = new_lock(TL_LOCK_MUTEX), *b = new_lock(TL_LOCK_MUTEX);
    uint32_t thread = 99;
    take_in_order(&t1, a, W, b, W); /* new edge: no slot yet */
    assert_int_equal(steady_slots_naming(a, b, &thread), 0);
    take_in_order(&t1, a, W, b, W); /* known and steady for t1 */
    assert_int_equal(steady_slots_naming(a, b, &thread), 1);
    assert_int_equal(thread, t1.id);
    assert_true(tl_lock_order_steady_out(a, b->id, t1.id, TL_MODE_BIT(W, W)));
    assert_false(tl_lock_order_steady_out(a, b->id, t2.id, TL_MODE_BIT(W, W)));
    assert_false(tl_lock_order_steady_out(a, b->id, t1.id, TL_MODE_BIT(R, W)));

    struct tl_edge *ab = tl_graph_find(a, b);
    take_in_order(&t2, a, W, b, W);
    assert_int_equal(atomic_load(&ab->multi), 1);
    take_in_order(&t2, a, W, b, W); /* steady for every thread now */
    assert_int_equal(steady_slots_naming(a, b, &thread), 1);
    assert_int_equal(thread, 0);
    assert_true(tl_lock_order_steady_out(a, b->id, t3.id, TL_MODE_BIT(W, W)));

    struct tl_lock *g = new_lock(TL_LOCK_MUTEX);
    struct tl_lock *c = new_lock(TL_LOCK_MUTEX), *d = new_lock(TL_LOCK_MUTEX);
    take_gated(&t1, g, c, d);
    take_gated(&t1, g, c, d);
    assert_int_equal(steady_slots_naming(c, d, &thread), 0);
    take_in_order(&t1, c, W, d, W); /* without the gate */
    assert_int_equal(atomic_load(&tl_graph_find(c, d)->gated), 0);
    take_in_order(&t1, c, W, d, W);
    assert_int_equal(steady_slots_naming(c, d, &thread), 1);
    take_findings(NULL, 0);
}

/* Past TL_LOCK_STEADY_OUT successors the first ones keep their slots; the rest still work. */
static void test_detect_lock_order_steady_successors_beyond_slots(void **state)
{
    (void)state;
    enum { N = TL_LOCK_STEADY_OUT + 3 };
    struct tl_lock *a = new_lock(TL_LOCK_MUTEX), *to[N];
    uint32_t thread;
    for (int i = 0; i < N; i++) {
        to[i] = new_lock(TL_LOCK_MUTEX);
        take_in_order(&t1, a, W, to[i], W);
        take_in_order(&t1, a, W, to[i], W);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(steady_slots_naming(a, to[i], &thread), i < TL_LOCK_STEADY_OUT);
    for (int i = 0; i < N; i++) {
        take_in_order(&t2, a, W, to[i], W);
        assert_int_equal(atomic_load(&tl_graph_find(a, to[i])->multi), 1);
    }
    /* A second thread's acquisitions made them shared; the slots say so, none moved. */
    for (int i = 0; i < N; i++) {
        take_in_order(&t2, a, W, to[i], W);
        assert_int_equal(steady_slots_naming(a, to[i], &thread), i < TL_LOCK_STEADY_OUT);
        if (i < TL_LOCK_STEADY_OUT)
            assert_int_equal(thread, 0);
    }
    assert_int_equal(take_findings(NULL, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_detect_lock_order_abba_two_threads_error, setup_case),
        cmocka_unit_test_setup(test_detect_lock_order_abba_one_thread_warning, setup_case),
        cmocka_unit_test_setup(test_detect_lock_order_common_gate_info, setup_case),
        cmocka_unit_test_setup(test_detect_lock_order_same_cycle_reported_once, setup_case),
        cmocka_unit_test_setup(test_detect_lock_order_trylock_adds_no_edge, setup_case),
        cmocka_unit_test_setup(test_detect_lock_order_three_threads_cycle, setup_case),
        cmocka_unit_test_setup(test_detect_lock_order_readers_no_finding, setup_case),
        cmocka_unit_test_setup(test_detect_lock_order_relock_adds_no_self_edge, setup_case),
        cmocka_unit_test_setup(test_detect_lock_order_severity_follows_evidence, setup_case),
        cmocka_unit_test_setup(test_detect_lock_order_steady_successor_per_thread, setup_case),
        cmocka_unit_test_setup(test_detect_lock_order_steady_successors_beyond_slots, setup_case),
    };
    return cmocka_run_group_tests(tests, setup_group, NULL);
}
