/*
 * test_heap.c - agent/heap.c: counters and the table of sampled blocks, in
 * exact mode (sample_bytes=1, every allocation sampled). Block addresses are
 * plain numbers: the heap code never dereferences them. The table is
 * process-global, so each case uses its own address range (block_addr()).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "heap.h"

/* A fresh, never-used block address; 16-byte aligned like malloc's. */
static void *block_addr(void)
{
    static uintptr_t next = 0x560000001000ull;
    next += 48;
    return (void *)next;
}

struct live_count {
    uintptr_t lo, hi; /* the case's own range */
    int n;
    int64_t bytes;
};

static void count_live(const struct tl_sampled *s, void *arg)
{
    struct live_count *c = arg;
    if (s->addr >= c->lo && s->addr < c->hi) {
        c->n++;
        c->bytes += (int64_t)s->size;
    }
}

static struct live_count live_in(void *lo, void *hi)
{
    struct live_count c = {(uintptr_t)lo, (uintptr_t)hi + 1, 0, 0};
    tl_heap_for_each_sampled(count_live, &c);
    return c;
}

static int setup_group(void **state)
{
    (void)state;
    return tl_heap_init(1);
}

static struct tl_thread *fresh_thread(void)
{
    static struct tl_thread t;
    memset(&t, 0, sizeof t);
    t.id = 1;
    return &t;
}

/* Many more live blocks than the table's first buckets: it grows, and loses none. */
static void test_every_block_sampled_and_freed(void **state)
{
    (void)state;
    struct tl_thread *self = fresh_thread();
    enum { N = 5000 };
    static void *blocks[N];
    for (int i = 0; i < N; i++) {
        blocks[i] = block_addr();
        tl_heap_on_alloc(self, blocks[i], 32);
    }
    struct live_count c = live_in(blocks[0], blocks[N - 1]);
    assert_int_equal(c.n, N);
    assert_int_equal(c.bytes, (int64_t)N * 32);
    for (int i = 0; i < N; i += 2)
        tl_heap_on_free(self, blocks[i], 32);
    c = live_in(blocks[0], blocks[N - 1]);
    assert_int_equal(c.n, N / 2);
    for (int i = 1; i < N; i += 2)
        tl_heap_on_free(self, blocks[i], 32);
    assert_int_equal(live_in(blocks[0], blocks[N - 1]).n, 0);
    assert_int_equal(self->heap_alloc_count, N);
    assert_int_equal(self->heap_free_count, N);
    assert_int_equal(self->heap_alloc_bytes, self->heap_free_bytes);
}

/* An address sampled again without a tracked free in between counts once. */
static void test_address_reused_behind_our_back(void **state)
{
    (void)state;
    struct tl_thread *self = fresh_thread();
    void *p = block_addr();
    tl_heap_on_alloc(self, p, 64);
    tl_heap_on_alloc(self, p, 128); /* the first block was freed untracked */
    struct live_count c = live_in(p, p);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.bytes, 128);
    tl_heap_on_free(self, p, 128);
    assert_int_equal(live_in(p, p).n, 0);
}

/* A free of a block never sampled (or freed twice) leaves the table as it was. */
static void test_unknown_free_changes_nothing(void **state)
{
    (void)state;
    struct tl_thread *self = fresh_thread();
    void *kept = block_addr(), *never = block_addr();
    tl_heap_on_alloc(self, kept, 16);
    tl_heap_on_free(self, never, 16);
    tl_heap_on_free(self, never, 16);
    assert_int_equal(live_in(kept, never).n, 1);
    tl_heap_on_free(self, kept, 16);
    tl_heap_on_free(self, kept, 16);
    assert_int_equal(live_in(kept, never).n, 0);
}

/* Addresses come back after a free: the table keeps no trace of freed ones. */
static void test_churn_on_few_addresses(void **state)
{
    (void)state;
    struct tl_thread *self = fresh_thread();
    void *slots[8];
    for (int i = 0; i < 8; i++)
        slots[i] = block_addr();
    for (int round = 0; round < 100000; round++) {
        void *p = slots[round % 8];
        tl_heap_on_alloc(self, p, 24);
        tl_heap_on_free(self, p, 24);
    }
    assert_int_equal(live_in(slots[0], slots[7]).n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_block_sampled_and_freed),
        cmocka_unit_test(test_address_reused_behind_our_back),
        cmocka_unit_test(test_unknown_free_changes_nothing),
        cmocka_unit_test(test_churn_on_few_addresses),
    };
    return cmocka_run_group_tests(tests, setup_group, NULL);
}
