/*
 * test_detect_growth.c - agent/detect_growth.c: growth findings from
 * observations. The cases play the collector: each second they observe
 * every series, call tl_growth_tick(), and take the findings off the publish
 * queue. The detector's table and the queue are process-global: every case
 * starts with tl_growth_after_fork_child() (forget all series), the option
 * defaults and an empty queue.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "detect_growth.h"
#include "finding.h"
#include "log.h"
#include "options.h"
#include "publish.h"
#include "stack.h"

#define NS 1000000000ll
#define T0 (1700000000ll * NS)
#define MIB (1024.0 * 1024.0)

static uint64_t rng_state;

static double gauss(void)
{
    uint64_t r[2];
    for (int k = 0; k < 2; k++) {
        uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull); /* splitmix64 */
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        r[k] = z ^ (z >> 31);
    }
    double u = ((double)(r[0] >> 11) + 0.5) * 0x1.0p-53, v = (double)(r[1] >> 11) * 0x1.0p-53;
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* Stands in for tl_store_stack_function: the sites' stacks are made up. */
static struct tl_stack *leak_stack, *churn_stack, *steady_stack;

static void name_stack(struct tl_stack *stack, char *buf, size_t size)
{
    snprintf(buf, size, "%s",
             stack == leak_stack    ? "leak_one"
             : stack == churn_stack ? "cache_fill"
                                    : "steady_alloc");
}

static struct tl_stack *make_stack(uintptr_t pc)
{
    uintptr_t pcs[3] = {pc, pc + 0x100, pc + 0x200};
    struct tl_stack *s = tl_stack_intern(pcs, 3);
    assert_non_null(s);
    return s;
}

/* Takes the queue; stores up to `max` findings in out (may be NULL), returns how many. */
static int take_findings(struct tl_finding **out, int max)
{
    int n = 0;
    for (struct tl_pub *p = tl_publish_take_all(), *next; p; p = next) {
        next = p->next;
        tl_publish_done(p);
        assert_int_equal(p->type, TL_PUB_FINDING);
        if (out && n < max)
            out[n] = tl_container_of(p, struct tl_finding, pub);
        n++;
    }
    return n;
}

static int setup_group(void **state)
{
    (void)state;
    tl_log_set_level(TL_LOG_QUIET); /* "table full" is logged by design */
    leak_stack = make_stack(0x401000);
    churn_stack = make_stack(0x402000);
    steady_stack = make_stack(0x403000);
    return 0;
}

static int setup_case(void **state)
{
    (void)state;
    tl_growth_after_fork_child();
    tl_growth_set_namer(name_stack);
    assert_int_equal(tl_options_parse(NULL), 0);
    take_findings(NULL, 0);
    rng_state = 1;
    return 0;
}

/* A process whose only leak is one allocation site, with noise and churn elsewhere. */
static void observe_process(double t, int64_t t_ns, double leak_rate)
{
    tl_growth_observe(TL_SERIES_HEAP, 0, NULL, t_ns, 64 * MIB + 65536 * gauss());
    tl_growth_observe(TL_SERIES_RSS, 0, NULL, t_ns, 96 * MIB + 65536 * gauss());
    tl_growth_observe(TL_SERIES_THREADS, 0, NULL, t_ns, 8 + ((int)t % 20 < 10 ? 4 : 0));
    tl_growth_observe(TL_SERIES_TASKS, 0, NULL, t_ns, fmod(t, 10) * 3);
    tl_growth_observe(TL_SERIES_SITE, 1, leak_stack, t_ns, 4096 + leak_rate * t + 4096 * gauss());
    tl_growth_observe(TL_SERIES_SITE, 2, churn_stack, t_ns, 16384 * fmod(t, 8));
    tl_growth_observe(TL_SERIES_SITE, 3, steady_stack, t_ns, 1 * MIB + 8192 * gauss());
}

static void test_detect_growth_leaking_site_reported_once(void **state)
{
    (void)state;
    struct tl_finding *found[8];
    int total = 0, when = -1;
    for (int i = 0; i < 300; i++) {
        int64_t now = T0 + i * NS;
        observe_process(i, now, 8192);
        int n = tl_growth_tick(now);
        int taken = take_findings(found + total, 8 - total);
        assert_int_equal(n, taken);
        if (n && when < 0)
            when = i;
        total += taken;
    }
    assert_int_equal(total, 1);
    print_message("  reported at %d s: %s\n", when, found[0]->summary);
    assert_true(when >= 10 && when <= 30);
    struct tl_finding *f = found[0];
    assert_int_equal(f->kind, TL_FINDING_MEMORY_GROWTH);
    assert_int_equal(atomic_load(&f->severity), TL_SEVERITY_WARNING);
    assert_int_equal(f->nitems, 1);
    assert_int_equal(f->items[0].role, TL_ROLE_STACK);
    assert_ptr_equal(f->items[0].stack, leak_stack);
    assert_string_equal(f->items[0].detail, "allocated");
    assert_non_null(f->summary);
    assert_non_null(strstr(f->summary, "live heap of allocations from leak_one grows "));
    assert_non_null(strstr(f->summary, " KiB/s over "));
    assert_non_null(strstr(f->summary, "(Mann-Kendall p"));
}

/*
 * New sites arrive every second, so the series index (which starts small)
 * doubles again and again under the leaking site's series: each rebuild must
 * keep it, or its window would start over and the report come late.
 */
static void test_detect_growth_leak_found_while_index_grows(void **state)
{
    (void)state;
    int total = 0, when = -1;
    uint64_t next_site = 1000;
    for (int i = 0; i < 60; i++) {
        int64_t now = T0 + i * NS;
        observe_process(i, now, 8192);
        for (int k = 0; k < 20; k++)
            tl_growth_observe(TL_SERIES_SITE, next_site++, steady_stack, now, 4096);
        int n = tl_growth_tick(now);
        if (n && when < 0)
            when = i;
        total += n;
    }
    assert_int_equal(take_findings(NULL, 0), total);
    assert_int_equal(total, 1);
    assert_true(when >= 10 && when <= 30);
}

static void test_detect_growth_nothing_without_a_leak(void **state)
{
    (void)state;
    for (int i = 0; i < 300; i++) {
        int64_t now = T0 + i * NS;
        observe_process(i, now, 0);
        assert_int_equal(tl_growth_tick(now), 0);
    }
    assert_int_equal(take_findings(NULL, 0), 0);
}

static void test_detect_growth_threads_and_tasks(void **state)
{
    (void)state;
    struct tl_finding *found[4];
    int total = 0;
    for (int i = 0; i < 120; i++) {
        int64_t now = T0 + i * NS;
        tl_growth_observe(TL_SERIES_THREADS, 0, NULL, now, 4 + i / 2);  /* 0.5/s */
        tl_growth_observe(TL_SERIES_TASKS, 0, NULL, now, 2 * i + (i % 3)); /* 2/s */
        tl_growth_observe(TL_SERIES_RSS, 0, NULL, now, 32 * MIB + 65536.0 * i); /* 64 KiB/s */
        tl_growth_tick(now);
        total += take_findings(found + total, 4 - total);
    }
    /* RSS grows too, but the thread growth already explains it: no third finding. */
    assert_int_equal(total, 2);
    int seen[3] = {0};
    for (int k = 0; k < 2; k++) {
        struct tl_finding *f = found[k];
        print_message("  %s\n", f->summary);
        assert_int_equal(f->nitems, 0);
        assert_int_equal(atomic_load(&f->severity), TL_SEVERITY_WARNING);
        if (f->kind == TL_FINDING_THREAD_GROWTH) {
            seen[0]++;
            assert_non_null(strstr(f->summary, "live threads grow 0.5/s over "));
        } else if (f->kind == TL_FINDING_TASK_GROWTH) {
            seen[1]++;
            assert_non_null(strstr(f->summary, "in-flight tasks grow 2.0/s over "));
        } else {
            assert_int_equal(f->kind, TL_FINDING_MEMORY_GROWTH);
            seen[2]++;
            assert_non_null(strstr(f->summary, "resident memory (RSS) grows 64.0 KiB/s over "));
        }
    }
    assert_true(seen[0] == 1 && seen[1] == 1 && seen[2] == 0);
}

static void test_detect_growth_items_bar_is_items_per_s(void **state)
{
    (void)state;
    /* One new thread every 10 s: a trend, but under trend_min_items_per_s (0.2/s). */
    for (int i = 0; i < 120; i++) {
        int64_t now = T0 + i * NS;
        tl_growth_observe(TL_SERIES_THREADS, 0, NULL, now, 4 + i / 10);
        tl_growth_tick(now);
    }
    assert_int_equal(take_findings(NULL, 0), 0);
    /* With the bar lowered it is reported. */
    tl_growth_after_fork_child();
    assert_int_equal(tl_options_parse("trend_min_items_per_s=0.05"), 0);
    int total = 0;
    for (int i = 0; i < 120; i++) {
        int64_t now = T0 + i * NS;
        tl_growth_observe(TL_SERIES_THREADS, 0, NULL, now, 4 + i / 10);
        total += tl_growth_tick(now);
    }
    assert_int_equal(total, 1);
    assert_int_equal(take_findings(NULL, 0), 1);
}

static void test_detect_growth_options_apply_at_tick(void **state)
{
    (void)state;
    assert_true(tl_options.trend_window == 60);
    assert_true(tl_options.trend_min_duration == 10);
    assert_true(tl_options.trend_alpha == 0.01);
    assert_true(tl_options.trend_min_bytes_per_s == 4096);
    assert_true(tl_options.trend_min_items_per_s == 0.2);
    assert_int_equal(tl_options_parse("trend_window=0.5:trend_alpha=0.6:trend_alpha=0:"
                                      "trend_min_duration=x:trend_min_bytes_per_s=-1:"
                                      "trend_min_items_per_s=nan"),
                     6);
    assert_true(tl_options.trend_window == 60 && tl_options.trend_alpha == 0.01);

    /* The leak is 8 KiB/s; a 1 MiB/s bar hides it, a 40 s minimum duration delays it. */
    assert_int_equal(tl_options_parse("trend_min_bytes_per_s=1048576"), 0);
    int total = 0;
    for (int i = 0; i < 120; i++) {
        observe_process(i, T0 + i * NS, 8192);
        total += tl_growth_tick(T0 + i * NS);
    }
    assert_int_equal(total, 0);

    tl_growth_after_fork_child();
    assert_int_equal(tl_options_parse("trend_min_duration=40:trend_window=90"), 0);
    int when = -1;
    for (int i = 0; i < 120 && when < 0; i++) {
        observe_process(i, T0 + i * NS, 8192);
        if (tl_growth_tick(T0 + i * NS))
            when = i;
    }
    assert_true(when >= 40 && when <= 60);
    assert_int_equal(take_findings(NULL, 0), 1);
}

static void test_detect_growth_fork_child_reports_again(void **state)
{
    (void)state;
    int total = 0;
    for (int i = 0; i < 60; i++) {
        observe_process(i, T0 + i * NS, 8192);
        total += tl_growth_tick(T0 + i * NS);
    }
    assert_int_equal(total, 1);
    tl_growth_after_fork_child(); /* a new process: its own leak is news */
    for (int i = 60; i < 120; i++) {
        observe_process(i, T0 + i * NS, 8192);
        total += tl_growth_tick(T0 + i * NS);
    }
    assert_int_equal(total, 2);
    assert_int_equal(take_findings(NULL, 0), 2);
}

static void test_detect_growth_fast_ticks_cover_the_window(void **state)
{
    (void)state;
    /* 20 ticks a second: 1200 observations a minute, the ring holds TL_TREND_CAP. */
    int when = -1;
    for (int i = 0; i < 1200 && when < 0; i++) {
        int64_t now = T0 + i * (NS / 20);
        tl_growth_observe(TL_SERIES_HEAP, 0, NULL, now, 8 * MIB + 8192.0 * i / 20);
        if (tl_growth_tick(now))
            when = i;
    }
    assert_true(when >= 200 && when <= 300); /* ~10 s: the span is there */
    assert_int_equal(take_findings(NULL, 0), 1);
}

static void test_detect_growth_table_full_then_stale_sites_dropped(void **state)
{
    (void)state;
    /* More short-lived sites than the table holds: the extra ones are ignored. */
    for (uint64_t k = 0; k < TL_GROWTH_MAX_SERIES + 100; k++)
        tl_growth_observe(TL_SERIES_SITE, 1000 + k, steady_stack, T0, 4096);
    tl_growth_tick(T0);
    /* A leaking site now finds no room... */
    int total = 0;
    for (int i = 1; i < 30; i++) {
        tl_growth_observe(TL_SERIES_SITE, 1, leak_stack, T0 + i * NS, 8192.0 * i);
        total += tl_growth_tick(T0 + i * NS);
    }
    assert_int_equal(total, 0);
    /* ...until the short-lived ones have left the window and are dropped. */
    for (int i = 30; i < 120; i++) {
        tl_growth_observe(TL_SERIES_SITE, 1, leak_stack, T0 + i * NS, 8192.0 * i);
        total += tl_growth_tick(T0 + i * NS);
    }
    assert_int_equal(total, 1);
    assert_int_equal(take_findings(NULL, 0), 1);
}

static void test_detect_growth_bad_input_ignored(void **state)
{
    (void)state;
    for (int i = 0; i < 60; i++) {
        int64_t now = T0 + i * NS;
        tl_growth_observe(-1, 0, NULL, now, 1e6 * i);
        tl_growth_observe(TL_SERIES_SITE + 1, 0, NULL, now, 1e6 * i);
        tl_growth_observe(TL_SERIES_RSS, 0, NULL, now, i % 2 ? NAN : 1 * MIB);
        tl_growth_observe(TL_SERIES_HEAP, 0, NULL, now, 1 * MIB);
        tl_growth_observe(TL_SERIES_HEAP, 0, NULL, now - NS / 2, 1e6 * i); /* back in time */
        assert_int_equal(tl_growth_tick(now), 0);
    }
    assert_int_equal(take_findings(NULL, 0), 0);
    /* Without a namer a site is named by its id. */
    tl_growth_set_namer(NULL);
    struct tl_finding *f = NULL;
    for (int i = 0; i < 60; i++) {
        tl_growth_observe(TL_SERIES_SITE, 77, leak_stack, T0 + i * NS, 8192.0 * i);
        tl_growth_tick(T0 + i * NS);
    }
    assert_int_equal(take_findings(&f, 1), 1);
    assert_non_null(strstr(f->summary, "allocations from site 77 grows 8.0 KiB/s"));
}

static void test_detect_growth_one_growing_look_is_not_enough(void **state)
{
    (void)state;
    /* A clean 8 KiB/s ramp tests as growing at 10 s; at 11 s it is freed. */
    for (int i = 0; i <= 10; i++) {
        tl_growth_observe(TL_SERIES_HEAP, 0, NULL, T0 + i * NS, 1 * MIB + 8192.0 * i);
        assert_int_equal(tl_growth_tick(T0 + i * NS), 0);
    }
    /* Ticks that bring no new point do not confirm it. */
    assert_int_equal(tl_growth_tick(T0 + 10 * NS + NS / 4), 0);
    assert_int_equal(tl_growth_tick(T0 + 10 * NS + NS / 2), 0);
    for (int i = 11; i < 120; i++) {
        tl_growth_observe(TL_SERIES_HEAP, 0, NULL, T0 + i * NS, 1 * MIB);
        assert_int_equal(tl_growth_tick(T0 + i * NS), 0);
    }
    assert_int_equal(take_findings(NULL, 0), 0);

    /* Had it gone on growing, the next point would have confirmed it. */
    tl_growth_after_fork_child();
    int when = -1;
    for (int i = 0; i < 30 && when < 0; i++) {
        tl_growth_observe(TL_SERIES_HEAP, 0, NULL, T0 + i * NS, 1 * MIB + 8192.0 * i);
        if (tl_growth_tick(T0 + i * NS))
            when = i;
    }
    assert_int_equal(when, 10 + TL_GROWTH_CONFIRM_AGGREGATE - 1);
    assert_int_equal(take_findings(NULL, 0), 1);
}

static void test_detect_growth_noisy_heaps_not_reported(void **state)
{
    (void)state;
    /* 50 processes' worth of heaps, noise far above the slope bar, 10 minutes each. */
    int total = 0;
    for (int k = 0; k < 50; k++) {
        tl_growth_after_fork_child();
        rng_state = 1000 + k;
        for (int i = 0; i < 600; i++) {
            tl_growth_observe(TL_SERIES_HEAP, 0, NULL, T0 + i * NS, 64 * MIB + MIB * gauss());
            total += tl_growth_tick(T0 + i * NS);
        }
    }
    take_findings(NULL, 0);
    assert_int_equal(total, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_detect_growth_leaking_site_reported_once, setup_case),
        cmocka_unit_test_setup(test_detect_growth_leak_found_while_index_grows, setup_case),
        cmocka_unit_test_setup(test_detect_growth_nothing_without_a_leak, setup_case),
        cmocka_unit_test_setup(test_detect_growth_threads_and_tasks, setup_case),
        cmocka_unit_test_setup(test_detect_growth_items_bar_is_items_per_s, setup_case),
        cmocka_unit_test_setup(test_detect_growth_options_apply_at_tick, setup_case),
        cmocka_unit_test_setup(test_detect_growth_fork_child_reports_again, setup_case),
        cmocka_unit_test_setup(test_detect_growth_fast_ticks_cover_the_window, setup_case),
        cmocka_unit_test_setup(test_detect_growth_table_full_then_stale_sites_dropped,
                               setup_case),
        cmocka_unit_test_setup(test_detect_growth_bad_input_ignored, setup_case),
        cmocka_unit_test_setup(test_detect_growth_one_growing_look_is_not_enough, setup_case),
        cmocka_unit_test_setup(test_detect_growth_noisy_heaps_not_reported, setup_case),
    };
    return cmocka_run_group_tests(tests, setup_group, NULL);
}
