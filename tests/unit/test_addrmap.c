/*
 * test_addrmap.c - agent/addrmap.c: the lock-free address-keyed map. Each case
 * maps its own tl_addrmap, so cases share no state.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "addrmap.h"

static void map_free(struct tl_addrmap *m)
{
    munmap(m->slots, (m->mask + 1) * sizeof(struct tl_addrmap_slot));
}

/* Lock-like keys: aligned addresses, as the lockmap sees them. */
static uintptr_t key_of(size_t i)
{
    return (uintptr_t)0x7f0000000000ull + (uintptr_t)(i + 1) * 16;
}

static void test_addrmap_insert_then_find(void **state)
{
    (void)state;
    struct tl_addrmap m;
    assert_int_equal(tl_addrmap_init(&m, 10), 0);
    uintptr_t key = key_of(42);
    struct tl_addrmap_slot *s = tl_addrmap_slot(&m, key, 1);
    assert_non_null(s);
    assert_int_equal(atomic_load(&s->key), key);
    assert_null(atomic_load(&s->value));
    int payload;
    atomic_store(&s->value, &payload);
    struct tl_addrmap_slot *found = tl_addrmap_slot(&m, key, 0);
    assert_ptr_equal(found, s);
    assert_ptr_equal(atomic_load(&found->value), &payload);
    map_free(&m);
}

static void test_addrmap_same_key_twice_same_slot(void **state)
{
    (void)state;
    struct tl_addrmap m;
    assert_int_equal(tl_addrmap_init(&m, 10), 0);
    struct tl_addrmap_slot *a = tl_addrmap_slot(&m, key_of(1), 1);
    struct tl_addrmap_slot *other = tl_addrmap_slot(&m, key_of(2), 1);
    struct tl_addrmap_slot *b = tl_addrmap_slot(&m, key_of(1), 1);
    assert_non_null(a);
    assert_non_null(other);
    assert_ptr_equal(a, b);
    assert_ptr_not_equal(a, other);
    map_free(&m);
}

static void test_addrmap_absent_key_not_created(void **state)
{
    (void)state;
    struct tl_addrmap m;
    assert_int_equal(tl_addrmap_init(&m, 10), 0);
    assert_null(tl_addrmap_slot(&m, key_of(7), 0));
    /* A lookup must not insert: the key is still absent, and creating it later works. */
    assert_null(tl_addrmap_slot(&m, key_of(7), 0));
    assert_non_null(tl_addrmap_slot(&m, key_of(8), 1));
    assert_null(tl_addrmap_slot(&m, key_of(7), 0));
    map_free(&m);
}

static void test_addrmap_uninitialised_map_returns_null(void **state)
{
    (void)state;
    struct tl_addrmap m = {0};
    assert_null(tl_addrmap_slot(&m, key_of(1), 1));
    assert_null(tl_addrmap_slot(&m, key_of(1), 0));
}

static void test_addrmap_many_keys_all_found(void **state)
{
    (void)state;
    enum { N = 100000 };
    struct tl_addrmap m;
    assert_int_equal(tl_addrmap_init(&m, 18), 0);
    struct tl_addrmap_slot **slots = calloc(N, sizeof *slots);
    assert_non_null(slots);
    for (size_t i = 0; i < N; i++) {
        slots[i] = tl_addrmap_slot(&m, key_of(i), 1);
        assert_non_null(slots[i]);
        atomic_store(&slots[i]->value, (void *)(uintptr_t)(i + 1));
    }
    for (size_t i = 0; i < N; i++) {
        struct tl_addrmap_slot *s = tl_addrmap_slot(&m, key_of(i), 0);
        assert_ptr_equal(s, slots[i]);
        assert_int_equal(atomic_load(&s->key), key_of(i));
        assert_int_equal((uintptr_t)atomic_load(&s->value), i + 1);
    }
    /* Keys never inserted stay absent even in a well-filled map. */
    for (size_t i = N; i < N + 1000; i++)
        assert_null(tl_addrmap_slot(&m, key_of(i), 0));
    size_t used = 0;
    for (size_t i = 0; i <= m.mask; i++)
        used += atomic_load(&m.slots[i].key) != 0;
    assert_int_equal(used, N);
    free(slots);
    map_free(&m);
}

static void test_addrmap_full_map_returns_null(void **state)
{
    (void)state;
    struct tl_addrmap m;
    assert_int_equal(tl_addrmap_init(&m, 4), 0);
    size_t n = m.mask + 1;
    assert_int_equal(n, 16);
    alarm(20); /* a probe loop that never gives up fails the case instead of hanging ctest */
    for (size_t i = 0; i < n; i++)
        assert_non_null(tl_addrmap_slot(&m, key_of(i), 1));
    assert_null(tl_addrmap_slot(&m, key_of(n), 1));
    assert_null(tl_addrmap_slot(&m, key_of(n + 1), 0));
    /* Keys already in a full map are still found. */
    for (size_t i = 0; i < n; i++)
        assert_non_null(tl_addrmap_slot(&m, key_of(i), 0));
    alarm(0);
    map_free(&m);
}

static void test_addrmap_clear_forgets_keys(void **state)
{
    (void)state;
    struct tl_addrmap m;
    assert_int_equal(tl_addrmap_init(&m, 8), 0);
    for (size_t i = 0; i < 100; i++)
        atomic_store(&tl_addrmap_slot(&m, key_of(i), 1)->value, &m);
    tl_addrmap_clear(&m);
    for (size_t i = 0; i < 100; i++)
        assert_null(tl_addrmap_slot(&m, key_of(i), 0));
    struct tl_addrmap_slot *s = tl_addrmap_slot(&m, key_of(3), 1);
    assert_non_null(s);
    assert_null(atomic_load(&s->value));
    map_free(&m);
}

/* Concurrent inserts: 4 threads, each key inserted by 2-4 of them. */
enum { NTHREADS = 4, PER_THREAD = 20000, STRIDE = PER_THREAD / 4 };
#define KEYS_TOTAL (STRIDE * (NTHREADS - 1) + PER_THREAD)

struct inserter {
    struct tl_addrmap *map;
    pthread_barrier_t *start;
    int index;
    struct tl_addrmap_slot **got; /* [KEYS_TOTAL]; NULL for keys this thread skips */
    int failures;
};

static void *insert_range(void *arg)
{
    struct inserter *in = arg;
    pthread_barrier_wait(in->start);
    size_t first = (size_t)in->index * STRIDE;
    for (size_t k = 0; k < PER_THREAD; k++) {
        /* Odd threads go backwards, so they meet the even ones head-on. */
        size_t i = first + ((in->index & 1) ? PER_THREAD - 1 - k : k);
        struct tl_addrmap_slot *s = tl_addrmap_slot(in->map, key_of(i), 1);
        if (!s)
            in->failures++;
        in->got[i] = s;
    }
    return NULL;
}

static void test_addrmap_concurrent_inserts_one_slot_per_key(void **state)
{
    (void)state;
    struct tl_addrmap m;
    assert_int_equal(tl_addrmap_init(&m, 17), 0);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, NTHREADS);
    struct inserter in[NTHREADS];
    pthread_t th[NTHREADS];
    for (int t = 0; t < NTHREADS; t++) {
        in[t] = (struct inserter){.map = &m, .start = &start, .index = t};
        in[t].got = calloc(KEYS_TOTAL, sizeof *in[t].got);
        assert_non_null(in[t].got);
        assert_int_equal(pthread_create(&th[t], NULL, insert_range, &in[t]), 0);
    }
    for (int t = 0; t < NTHREADS; t++)
        pthread_join(th[t], NULL);
    pthread_barrier_destroy(&start);

    for (int t = 0; t < NTHREADS; t++)
        assert_int_equal(in[t].failures, 0);
    for (size_t i = 0; i < KEYS_TOTAL; i++) {
        struct tl_addrmap_slot *s = NULL;
        int inserters = 0;
        for (int t = 0; t < NTHREADS; t++) {
            if (!in[t].got[i])
                continue;
            inserters++;
            if (!s)
                s = in[t].got[i];
            assert_ptr_equal(in[t].got[i], s);
        }
        assert_true(inserters >= 1);
        assert_int_equal(atomic_load(&s->key), key_of(i));
        assert_ptr_equal(tl_addrmap_slot(&m, key_of(i), 0), s);
    }
    size_t used = 0;
    for (size_t i = 0; i <= m.mask; i++)
        used += atomic_load(&m.slots[i].key) != 0;
    assert_int_equal(used, KEYS_TOTAL);
    for (int t = 0; t < NTHREADS; t++)
        free(in[t].got);
    map_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addrmap_insert_then_find),
        cmocka_unit_test(test_addrmap_same_key_twice_same_slot),
        cmocka_unit_test(test_addrmap_absent_key_not_created),
        cmocka_unit_test(test_addrmap_uninitialised_map_returns_null),
        cmocka_unit_test(test_addrmap_many_keys_all_found),
        cmocka_unit_test(test_addrmap_full_map_returns_null),
        cmocka_unit_test(test_addrmap_clear_forgets_keys),
        cmocka_unit_test(test_addrmap_concurrent_inserts_one_slot_per_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
