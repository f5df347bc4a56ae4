/*
 * detect_growth.h - `memory-growth`, `thread-growth`, `task-growth`: a
 * quantity that keeps growing as a trend (trend.h: Theil-Sen slope,
 * Mann-Kendall test, minimum slope and duration, sustained to the end), not
 * as a burst, a plateau or saw-tooth churn. Series: the process's live heap
 * bytes, its RSS, live threads, in-flight tasks, and the live bytes of each
 * allocation site. Each series is reported at most once per process, with
 * severity warning.
 *
 * Collector thread only: the collector feeds one observation per series per
 * tick with tl_growth_observe(), then calls tl_growth_tick(). State: a table
 * of series keyed by (kind, key), malloc'ed (the collector's guard is set, so
 * that is the real malloc), at most TL_GROWTH_MAX_SERIES; when it is full,
 * new series are ignored and one line says so. Series not observed for a
 * whole window are dropped (reported ones are kept, to stay reported).
 *
 * A series is reported once TL_GROWTH_CONFIRM tests in a row, each with a
 * point the last one did not have, said it grows: a window that happens to
 * look like growth for one tick, at noise's whim, does not make a finding.
 *
 * A series keeps at most TL_TREND_CAP points: observations closer together
 * than trend_window / (TL_TREND_CAP - 8) are skipped, so short intervals
 * still cover the window. Settings come from tl_options at each tick
 * (trend_window, trend_min_duration, trend_alpha, trend_min_bytes_per_s,
 * trend_min_items_per_s).
 *
 * Known false negatives: growth slower than the minimum slope, or that
 * spans less than trend_min_duration inside the window; a leak hidden under
 * churn whose low-water mark rises slower than half the minimum slope.
 * Known false positives: a cache that warms up steadily for longer than
 * trend_min_duration (it is growth, just bounded). Sampled site sizes are
 * estimates. Cost per tick: nothing for a series without a new point,
 * O(points^2) for one that passes trend.h's cheap checks, O(points) else.
 */
#ifndef TL_DETECT_GROWTH_H
#define TL_DETECT_GROWTH_H

#include <stddef.h>
#include <stdint.h>

struct tl_stack;

#define TL_GROWTH_MAX_SERIES 4096
#define TL_GROWTH_CONFIRM 2 /* consecutive tests, each on a new point, before a report */
/*
 * Process-wide heap and RSS wait longer, and stay silent once a site or the
 * thread count was reported: their growth is then that finding's echo.
 */
#define TL_GROWTH_CONFIRM_AGGREGATE (3 * TL_GROWTH_CONFIRM)

enum tl_series_kind {
    TL_SERIES_HEAP,     /* process live heap bytes (key 0) */
    TL_SERIES_RSS,      /* process resident set bytes (key 0) */
    TL_SERIES_THREADS,  /* live threads (key 0) */
    TL_SERIES_TASKS,    /* in-flight tasks, task API (key 0) */
    TL_SERIES_SITE,     /* live bytes of one allocation site: key = site id */
};

/* Names a stack's innermost function into buf ("??" when unknown). */
typedef void (*tl_stack_name_fn)(struct tl_stack *stack, char *buf, size_t size);

/*
 * Sets how site findings name their function; the agent passes
 * tl_store_stack_function (store.h), which detect_growth.c does not call
 * itself so that unit tests link without the store. Until set, a site is
 * named "site <id>".
 */
void tl_growth_set_namer(tl_stack_name_fn namer);
/* One observation of series (kind, key) at t_ns; `site` for TL_SERIES_SITE, else NULL. */
void tl_growth_observe(int kind, uint64_t key, struct tl_stack *site, int64_t t_ns,
                       double value);
/* Tests every series over the last trend_window; returns the findings published. */
int tl_growth_tick(int64_t now_ns);
/* Fork child: forgets every series (the child is a new process, reported anew). */
void tl_growth_after_fork_child(void);

#endif
