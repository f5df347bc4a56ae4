/*
 * test_publish.c - agent/publish.c: the change queue to the collector. The
 * queue is process-global; every case leaves it empty.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "publish.h"

struct record {
    struct tl_pub pub;
    int producer;
    int seq;
};

static int queue_length(struct tl_pub *p)
{
    int n = 0;
    for (; p; p = p->next)
        n++;
    return n;
}

static void done_all(struct tl_pub *p)
{
    while (p) {
        struct tl_pub *next = p->next;
        tl_publish_done(p);
        p = next;
    }
}

static void test_publish_empty_queue_takes_null(void **state)
{
    (void)state;
    assert_null(tl_publish_take_all());
    assert_null(tl_publish_take_all());
}

static void test_publish_twice_queued_once(void **state)
{
    (void)state;
    struct record a = {.pub.type = TL_PUB_LOCK}, b = {.pub.type = TL_PUB_EDGE};
    tl_publish(&a.pub);
    tl_publish(&b.pub);
    tl_publish(&a.pub);
    tl_publish(&a.pub);
    struct tl_pub *p = tl_publish_take_all();
    assert_int_equal(queue_length(p), 2);
    assert_ptr_equal(p, &a.pub);
    assert_ptr_equal(p->next, &b.pub);
    assert_null(p->next->next);
    assert_int_equal(p->type, TL_PUB_LOCK); /* the queue leaves the type alone */
    done_all(p);
    assert_null(tl_publish_take_all());
}

static void test_publish_pushes_count_queued_records(void **state)
{
    (void)state;
    struct record a = {.pub.type = TL_PUB_LOCK}, b = {.pub.type = TL_PUB_EDGE};
    unsigned before = tl_publish_pushes();
    tl_publish(&a.pub);
    tl_publish(&a.pub); /* already queued: not pushed again */
    tl_publish(&b.pub);
    assert_int_equal(tl_publish_pushes() - before, 2);
    done_all(tl_publish_take_all());
    tl_publish(&a.pub);
    assert_int_equal(tl_publish_pushes() - before, 3);
    done_all(tl_publish_take_all());
}

static void test_publish_take_all_oldest_first(void **state)
{
    (void)state;
    enum { N = 100 };
    struct record r[N];
    memset(r, 0, sizeof r);
    for (int i = 0; i < N; i++) {
        r[i].seq = i;
        tl_publish(&r[i].pub);
    }
    struct tl_pub *p = tl_publish_take_all();
    assert_int_equal(queue_length(p), N);
    int i = 0;
    for (struct tl_pub *q = p; q; q = q->next, i++)
        assert_int_equal(tl_container_of(q, struct record, pub)->seq, i);
    done_all(p);
    assert_null(tl_publish_take_all());
}

static void test_publish_requeue_after_done(void **state)
{
    (void)state;
    struct record a = {0};
    tl_publish(&a.pub);
    assert_ptr_equal(tl_publish_take_all(), &a.pub);
    /* Taken but not yet done: a change now is already covered by the pending write. */
    tl_publish(&a.pub);
    assert_null(tl_publish_take_all());
    tl_publish_done(&a.pub);
    tl_publish(&a.pub);
    struct tl_pub *p = tl_publish_take_all();
    assert_ptr_equal(p, &a.pub);
    assert_null(p->next);
    tl_publish_done(p);
    assert_null(tl_publish_take_all());
}

static void test_publish_reset_drops_queue(void **state)
{
    (void)state;
    struct record a = {0}, b = {0};
    tl_publish(&a.pub);
    tl_publish(&b.pub);
    tl_publish_reset();
    assert_null(tl_publish_take_all());
    tl_publish_done(&a.pub);
    tl_publish(&a.pub);
    assert_ptr_equal(tl_publish_take_all(), &a.pub);
    tl_publish_done(&a.pub);
}

/* Producers publish concurrently (each record twice); every record arrives once. */
enum { PRODUCERS = 4, PER_PRODUCER = 20000 };

struct producer {
    struct record *records;
    pthread_barrier_t *start;
};

static void *produce(void *arg)
{
    struct producer *pr = arg;
    pthread_barrier_wait(pr->start);
    for (int i = 0; i < PER_PRODUCER; i++) {
        tl_publish(&pr->records[i].pub);
        tl_publish(&pr->records[i].pub);
    }
    return NULL;
}

static void test_publish_concurrent_producers_each_once(void **state)
{
    (void)state;
    struct record *all = calloc(PRODUCERS * PER_PRODUCER, sizeof *all);
    assert_non_null(all);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, PRODUCERS);
    struct producer pr[PRODUCERS];
    pthread_t th[PRODUCERS];
    for (int t = 0; t < PRODUCERS; t++) {
        pr[t] = (struct producer){.records = all + t * PER_PRODUCER, .start = &start};
        for (int i = 0; i < PER_PRODUCER; i++)
            pr[t].records[i] = (struct record){.producer = t, .seq = i};
        assert_int_equal(pthread_create(&th[t], NULL, produce, &pr[t]), 0);
    }
    /* Take while they produce, as the collector does. */
    int *seen = calloc(PRODUCERS * PER_PRODUCER, sizeof *seen);
    int last[PRODUCERS];
    assert_non_null(seen);
    for (int t = 0; t < PRODUCERS; t++)
        last[t] = -1;
    int total = 0, joined = 0;
    while (total < PRODUCERS * PER_PRODUCER) {
        struct tl_pub *p = tl_publish_take_all();
        for (struct tl_pub *q = p; q; q = q->next) {
            struct record *r = tl_container_of(q, struct record, pub);
            seen[r->producer * PER_PRODUCER + r->seq]++;
            /* Oldest first holds per producer across takes. */
            assert_true(r->seq > last[r->producer]);
            last[r->producer] = r->seq;
            total++;
        }
        /* Not done: a record stays taken, so its second publish must not requeue it. */
        if (!p && !joined) {
            for (int t = 0; t < PRODUCERS; t++)
                pthread_join(th[t], NULL);
            joined = 1;
        } else if (!p) {
            break;
        }
    }
    if (!joined)
        for (int t = 0; t < PRODUCERS; t++)
            pthread_join(th[t], NULL);
    pthread_barrier_destroy(&start);
    assert_null(tl_publish_take_all());
    assert_int_equal(total, PRODUCERS * PER_PRODUCER);
    for (int i = 0; i < PRODUCERS * PER_PRODUCER; i++)
        assert_int_equal(seen[i], 1);
    for (int i = 0; i < PRODUCERS * PER_PRODUCER; i++)
        tl_publish_done(&all[i].pub);
    free(seen);
    free(all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publish_empty_queue_takes_null),
        cmocka_unit_test(test_publish_twice_queued_once),
        cmocka_unit_test(test_publish_pushes_count_queued_records),
        cmocka_unit_test(test_publish_take_all_oldest_first),
        cmocka_unit_test(test_publish_requeue_after_done),
        cmocka_unit_test(test_publish_reset_drops_queue),
        cmocka_unit_test(test_publish_concurrent_producers_each_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
