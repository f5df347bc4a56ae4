/*
 * test_lockmap.c - agent/lockmap.c: lock records by address. The lockmap is
 * process-global, so each case uses its own address range (lock_addr()).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lockmap.h"
#include "publish.h"

/* A fresh, never-used lock address; 64-byte spacing like real lock objects. */
static uintptr_t lock_addr(void)
{
    static uintptr_t next = 0x550000001000ull;
    next += 64;
    return next;
}

/* Drops whatever earlier cases queued, so a case sees only its own records. */
static void drain_publish_queue(void)
{
    struct tl_pub *p = tl_publish_take_all();
    while (p) {
        struct tl_pub *next = p->next;
        tl_publish_done(p);
        p = next;
    }
}

static int setup_group(void **state)
{
    (void)state;
    return tl_lockmap_init(16);
}

static void test_lockmap_get_creates_once(void **state)
{
    (void)state;
    uintptr_t a = lock_addr(), b = lock_addr();
    struct tl_lock *la = tl_lockmap_get(a, TL_LOCK_MUTEX, 3, 0);
    assert_non_null(la);
    assert_int_equal(la->addr, a);
    assert_int_equal(la->first_thread, 3);
    assert_true(la->id >= 1);
    assert_int_equal(atomic_load(&la->retired), 0);
    assert_int_equal(atomic_load(&la->destroyed_ns), 0);
    assert_true(la->created_ns > 0);

    struct tl_lock *again = tl_lockmap_get(a, TL_LOCK_MUTEX, 9, 0);
    assert_ptr_equal(again, la);
    assert_int_equal(again->id, la->id);
    assert_int_equal(again->first_thread, 3); /* the first user stays recorded */

    struct tl_lock *lb = tl_lockmap_get(b, TL_LOCK_MUTEX, 3, 0);
    assert_non_null(lb);
    assert_ptr_not_equal(lb, la);
    assert_int_not_equal(lb->id, la->id);
}

static void test_lockmap_find_before_get_is_null(void **state)
{
    (void)state;
    uintptr_t a = lock_addr();
    assert_null(tl_lockmap_find(a));
    assert_null(tl_lockmap_find(a)); /* find never creates */
    struct tl_lock *l = tl_lockmap_get(a, TL_LOCK_MUTEX, 1, 0);
    assert_non_null(l);
    assert_ptr_equal(tl_lockmap_find(a), l);
}

static void test_lockmap_retire_then_get_new_record(void **state)
{
    (void)state;
    uintptr_t a = lock_addr();
    struct tl_lock *old = tl_lockmap_get(a, TL_LOCK_MUTEX, 1, 0);
    assert_non_null(old);
    uint32_t old_id = old->id;

    tl_lockmap_retire(a);
    assert_int_equal(atomic_load(&old->retired), 1);
    assert_true(atomic_load(&old->destroyed_ns) > 0);
    assert_null(tl_lockmap_find(a));

    /* Heap memory reused: a new lock at the same address is a different lock. */
    struct tl_lock *fresh = tl_lockmap_get(a, TL_LOCK_MUTEX, 2, 0);
    assert_non_null(fresh);
    assert_ptr_not_equal(fresh, old);
    assert_int_not_equal(fresh->id, old_id);
    assert_true(fresh->id > old_id);
    assert_int_equal(fresh->addr, a);
    assert_int_equal(fresh->first_thread, 2);
    assert_int_equal(atomic_load(&fresh->retired), 0);
    assert_null(fresh->out);
    assert_ptr_equal(tl_lockmap_find(a), fresh);
    /* The old record keeps its identity for the rows already written. */
    assert_int_equal(old->id, old_id);
    assert_int_equal(old->addr, a);
}

static void test_lockmap_retire_unknown_is_harmless(void **state)
{
    (void)state;
    uintptr_t a = lock_addr();
    uint32_t before = tl_lockmap_count();
    tl_lockmap_retire(a);
    tl_lockmap_retire(a);
    assert_null(tl_lockmap_find(a));
    assert_int_equal(tl_lockmap_count(), before);
    /* Retiring twice only retires once. */
    struct tl_lock *l = tl_lockmap_get(a, TL_LOCK_MUTEX, 1, 0);
    tl_lockmap_retire(a);
    int64_t when = atomic_load(&l->destroyed_ns);
    tl_lockmap_retire(a);
    assert_int_equal(atomic_load(&l->destroyed_ns), when);
}

static void test_lockmap_kind_preserved(void **state)
{
    (void)state;
    static const enum tl_lock_kind kinds[] = {TL_LOCK_MUTEX, TL_LOCK_RWLOCK, TL_LOCK_SPIN,
                                              TL_LOCK_C11};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        uintptr_t a = lock_addr();
        struct tl_lock *l = tl_lockmap_get(a, kinds[i], 1, 0);
        assert_non_null(l);
        assert_int_equal(l->kind, kinds[i]);
        assert_int_equal(tl_lockmap_find(a)->kind, kinds[i]);
    }
    /* The kind is the creator's; a later get with another kind returns the same record. */
    uintptr_t a = lock_addr();
    struct tl_lock *rw = tl_lockmap_get(a, TL_LOCK_RWLOCK, 1, 0);
    assert_ptr_equal(tl_lockmap_get(a, TL_LOCK_MUTEX, 1, 0), rw);
    assert_int_equal(rw->kind, TL_LOCK_RWLOCK);

    assert_string_equal(tl_lock_kind_name(TL_LOCK_MUTEX), "mutex");
    assert_string_equal(tl_lock_kind_name(TL_LOCK_RWLOCK), "rwlock");
    assert_string_equal(tl_lock_kind_name(TL_LOCK_SPIN), "spinlock");
    assert_string_equal(tl_lock_kind_name(TL_LOCK_C11), "c11-mutex");
    assert_string_equal(tl_lock_kind_name(99), "lock");
}

static void test_lockmap_count_counts_records(void **state)
{
    (void)state;
    uint32_t before = tl_lockmap_count();
    uintptr_t a = lock_addr(), b = lock_addr(), c = lock_addr();
    tl_lockmap_get(a, TL_LOCK_MUTEX, 1, 0);
    tl_lockmap_get(b, TL_LOCK_MUTEX, 1, 0);
    tl_lockmap_get(c, TL_LOCK_MUTEX, 1, 0);
    assert_int_equal(tl_lockmap_count(), before + 3);
    tl_lockmap_get(a, TL_LOCK_MUTEX, 1, 0);
    tl_lockmap_find(b);
    assert_int_equal(tl_lockmap_count(), before + 3);
    /* A retired lock stays counted; its successor at the address counts too. */
    tl_lockmap_retire(c);
    assert_int_equal(tl_lockmap_count(), before + 3);
    tl_lockmap_get(c, TL_LOCK_MUTEX, 1, 0);
    assert_int_equal(tl_lockmap_count(), before + 4);
}

static void test_lockmap_new_and_retired_records_published(void **state)
{
    (void)state;
    drain_publish_queue();
    uintptr_t a = lock_addr();
    struct tl_lock *l = tl_lockmap_get(a, TL_LOCK_MUTEX, 1, 0);
    tl_lockmap_get(a, TL_LOCK_MUTEX, 1, 0);
    struct tl_pub *p = tl_publish_take_all();
    assert_ptr_equal(p, &l->pub);
    assert_int_equal(p->type, TL_PUB_LOCK);
    assert_null(p->next);
    assert_ptr_equal(tl_container_of(p, struct tl_lock, pub), l);
    tl_publish_done(p);

    tl_lockmap_retire(a);
    p = tl_publish_take_all();
    assert_ptr_equal(p, &l->pub);
    assert_null(p->next);
    tl_publish_done(p);
}

static void test_lockmap_get_with_stack_records_first_stack(void **state)
{
    (void)state;
    struct tl_lock *l = tl_lockmap_get(lock_addr(), TL_LOCK_MUTEX, 1, 1);
    assert_non_null(l);
    assert_non_null(l->first_stack);
    assert_true(l->first_stack->depth >= 1);
    struct tl_lock *plain = tl_lockmap_get(lock_addr(), TL_LOCK_MUTEX, 1, 0);
    assert_null(plain->first_stack);
}

/* Runs drained recycling passes, as ticks do. */
static void recycle_passes(int n)
{
    for (int i = 0; i < n; i++)
        tl_lockmap_recycle(1, 1);
}

static int in_all_list(const struct tl_lock *l)
{
    for (struct tl_lock *x = tl_lockmap_all(); x; x = x->next_all)
        if (x == l)
            return 1;
    return 0;
}

/* Whether one of the next 64 new records reuses `l`; if so, *out is it. */
static int reused_soon(struct tl_lock *l, uintptr_t *addr_out)
{
    for (int i = 0; i < 64; i++) {
        uintptr_t a = lock_addr();
        if (tl_lockmap_get(a, TL_LOCK_MUTEX, 7, 0) == l) {
            *addr_out = a;
            return 1;
        }
    }
    return 0;
}

static void test_lockmap_recycles_destroyed_record(void **state)
{
    (void)state;
    uintptr_t a = lock_addr();
    struct tl_lock *old = tl_lockmap_get(a, TL_LOCK_RWLOCK, 3, 0);
    assert_non_null(old);
    atomic_store(&old->acquisitions, 5);
    uint32_t old_id = old->id;
    assert_non_null(tl_lockmap_get(lock_addr(), TL_LOCK_MUTEX, 3, 0)); /* the list's head */
    assert_int_equal(atomic_load(&old->live_addr), a);
    tl_lockmap_retire(a);
    assert_int_equal(atomic_load(&old->live_addr), 0); /* thread caches miss from now on */
    recycle_passes(1);
    assert_true(in_all_list(old)); /* its retirement is not written yet */
    drain_publish_queue();
    recycle_passes(1);
    assert_false(in_all_list(old)); /* written: unlinked, in limbo */
    uintptr_t early = 0;
    assert_false(reused_soon(old, &early)); /* one pass in limbo is not enough */
    recycle_passes(2);
    uintptr_t b = 0;
    assert_true(reused_soon(old, &b));
    assert_int_equal(old->addr, b);
    assert_int_equal(atomic_load(&old->live_addr), b);
    assert_true(old->id > old_id);
    assert_int_equal(old->kind, TL_LOCK_MUTEX);
    assert_int_equal(old->first_thread, 7);
    assert_int_equal(atomic_load(&old->retired), 0);
    assert_int_equal(atomic_load(&old->acquisitions), 0);
    assert_int_equal(atomic_load(&old->destroyed_ns), 0);
    assert_ptr_equal(tl_lockmap_find(b), old);
    assert_null(tl_lockmap_find(a));
    drain_publish_queue();
}

static size_t all_list_length(void)
{
    size_t n = 0;
    for (struct tl_lock *x = tl_lockmap_all(); x; x = x->next_all)
        n++;
    return n;
}

static void test_lockmap_drain_pass_walks_once_an_eighth_retired(void **state)
{
    (void)state;
    enum { N = 256 };
    static uintptr_t addrs[N];
    static struct tl_lock *locks[N];
    for (int i = 0; i < N; i++) {
        addrs[i] = lock_addr();
        locks[i] = tl_lockmap_get(addrs[i], TL_LOCK_MUTEX, 5, 0);
    }
    assert_non_null(tl_lockmap_get(lock_addr(), TL_LOCK_MUTEX, 5, 0)); /* the list's head */
    drain_publish_queue();
    recycle_passes(1); /* a tick's walk: every record listed */
    size_t listed = all_list_length() - 1;
    size_t enough = (listed + 7) / 8;
    assert_true(enough < N);
    tl_lockmap_retire(addrs[0]);
    drain_publish_queue();
    tl_lockmap_recycle(1, 0);
    assert_true(in_all_list(locks[0])); /* one retired: a drain pass does not walk */
    tl_lockmap_recycle(1, 1);
    assert_false(in_all_list(locks[0])); /* a tick does */
    listed = all_list_length() - 1;
    enough = (listed + 7) / 8;
    for (size_t i = 1; i < enough; i++)
        tl_lockmap_retire(addrs[i]);
    drain_publish_queue();
    tl_lockmap_recycle(1, 0);
    assert_true(in_all_list(locks[1])); /* one short of an eighth */
    tl_lockmap_retire(addrs[enough]);
    drain_publish_queue();
    tl_lockmap_recycle(1, 0);
    for (size_t i = 1; i <= enough; i++)
        assert_false(in_all_list(locks[i])); /* an eighth: the drain pass walks */
    assert_true(in_all_list(locks[enough + 1]));
}

/* The map starts at 32k slots and doubles: records stay found, and retire, across it. */
static void test_lockmap_records_found_after_map_grows(void **state)
{
    (void)state;
    enum { N = 24000 }; /* past half of 32k slots: one doubling */
    uintptr_t *addr = malloc(N * sizeof *addr);
    struct tl_lock **made = malloc(N * sizeof *made);
    assert_non_null(addr);
    assert_non_null(made);
    for (int i = 0; i < N; i++) {
        addr[i] = lock_addr();
        made[i] = tl_lockmap_get(addr[i], TL_LOCK_MUTEX, 1, 0);
        assert_non_null(made[i]);
    }
    int lost = 0;
    for (int i = 0; i < N; i++)
        lost += tl_lockmap_find(addr[i]) != made[i] ||
                tl_lockmap_get(addr[i], TL_LOCK_MUTEX, 1, 0) != made[i];
    assert_int_equal(lost, 0);
    tl_lockmap_retire(addr[0]);
    assert_null(tl_lockmap_find(addr[0]));
    assert_ptr_equal(tl_lockmap_find(addr[N - 1]), made[N - 1]);
    drain_publish_queue();
    free(addr);
    free(made);
}

static void test_lockmap_pinned_record_never_recycled(void **state)
{
    (void)state;
    uintptr_t a = lock_addr();
    struct tl_lock *l = tl_lockmap_get(a, TL_LOCK_MUTEX, 3, 0);
    assert_non_null(tl_lockmap_get(lock_addr(), TL_LOCK_MUTEX, 3, 0));
    tl_lockmap_pin(l);
    tl_lockmap_retire(a);
    drain_publish_queue();
    recycle_passes(4);
    assert_true(in_all_list(l));
    uintptr_t b = 0;
    assert_false(reused_soon(l, &b));
    assert_int_equal(l->addr, a);
    drain_publish_queue();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lockmap_get_creates_once),
        cmocka_unit_test(test_lockmap_find_before_get_is_null),
        cmocka_unit_test(test_lockmap_retire_then_get_new_record),
        cmocka_unit_test(test_lockmap_retire_unknown_is_harmless),
        cmocka_unit_test(test_lockmap_kind_preserved),
        cmocka_unit_test(test_lockmap_count_counts_records),
        cmocka_unit_test(test_lockmap_new_and_retired_records_published),
        cmocka_unit_test(test_lockmap_get_with_stack_records_first_stack),
        cmocka_unit_test(test_lockmap_recycles_destroyed_record),
        cmocka_unit_test(test_lockmap_drain_pass_walks_once_an_eighth_retired),
        cmocka_unit_test(test_lockmap_pinned_record_never_recycled),
        cmocka_unit_test(test_lockmap_records_found_after_map_grows),
    };
    return cmocka_run_group_tests(tests, setup_group, NULL);
}
