/* detect_growth.c - growth trends of heap, RSS, threads, tasks, sites (see detect_growth.h). */
#include "detect_growth.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "finding.h"
#include "log.h"
#include "options.h"
#include "publish.h"
#include "trend.h"

/*
 * The index starts small and doubles, staying at most half full: a process
 * watches a handful of series (heap, RSS, threads, a few sites), and every
 * page the index touches is a page fault at start-up.
 */
#define INDEX_MIN 64 /* power of two */

struct series {
    uint8_t kind;           /* enum tl_series_kind */
    uint8_t reported;       /* a finding was published: no more points, never again */
    uint8_t streak;         /* consecutive tests, each with a new point, that said "grows" */
    uint64_t key;           /* site id for TL_SERIES_SITE, else 0 */
    struct tl_stack *site;  /* TL_SERIES_SITE: the allocation stack */
    int64_t seen_ns;        /* newest observation, kept or skipped */
    int64_t tested_ns;      /* newest point when last tested: retest only with a new one */
    struct tl_series s;     /* the points inside the window */
};

/* All collector thread only (and the fork child before its collector starts). */
static struct series **all;     /* every series, nall of them, in creation order */
static int nall;
static int32_t *slots;          /* index into all[] by (kind, key), -1 = empty */
static uint32_t index_size;     /* entries in slots[]: a power of two, at least 2 * nall */
static int full_logged;         /* said once that the table is full */
static tl_stack_name_fn namer;  /* names a site's function; NULL: "site <id>" */

/* ---- the table ------------------------------------------------------------------------- */

static uint32_t hash(int kind, uint64_t key)
{
    uint64_t h = (key * 8 + (uint64_t)kind) * 0x9e3779b97f4a7c15ull;
    return (uint32_t)(h >> 32);
}

static int32_t *slot_for(int kind, uint64_t key)
{
    uint32_t mask = index_size - 1;
    for (uint32_t i = hash(kind, key) & mask;; i = (i + 1) & mask) {
        int32_t *slot = &slots[i];
        if (*slot < 0 || (all[*slot]->kind == kind && all[*slot]->key == key))
            return slot; /* terminates: the index is never more than half full */
    }
}

static void reindex(void)
{
    for (uint32_t i = 0; i < index_size; i++)
        slots[i] = -1;
    for (int i = 0; i < nall; i++)
        *slot_for(all[i]->kind, all[i]->key) = i;
}

/* A new index of `size` entries. Returns 0, or -1 (the old one kept) without memory. */
static int index_resize(uint32_t size)
{
    int32_t *fresh = malloc(size * sizeof *fresh);
    if (!fresh)
        return -1;
    free(slots);
    slots = fresh;
    index_size = size;
    reindex();
    return 0;
}

/* The series of (kind, key), created on first use. NULL when full or out of memory. */
static struct series *series_get(int kind, uint64_t key, struct tl_stack *site)
{
    if (!all) {
        all = malloc(TL_GROWTH_MAX_SERIES * sizeof *all);
        if (!all || index_resize(INDEX_MIN) < 0) {
            free(all);
            all = NULL;
            return NULL;
        }
    }
    int32_t *slot = slot_for(kind, key);
    if (*slot >= 0)
        return all[*slot];
    int room = nall < TL_GROWTH_MAX_SERIES &&
               ((uint32_t)(nall + 1) * 2 <= index_size || index_resize(index_size * 2) == 0);
    if (room)
        slot = slot_for(kind, key); /* the index may be new */
    struct series *x = room ? calloc(1, sizeof *x) : NULL;
    if (!x) {
        if (!full_logged)
            tl_log(TL_LOG_ERROR, "growth detector: %d series, no room for more; new "
                   "allocation sites are not watched for growth", nall);
        full_logged = 1;
        return NULL;
    }
    x->kind = (uint8_t)kind;
    x->key = key;
    x->site = site;
    *slot = nall;
    all[nall++] = x;
    return x;
}

/* Frees the series that left the window and were never reported; reindexes once. */
static void drop_stale(int64_t oldest_ns)
{
    int kept = 0;
    for (int i = 0; i < nall; i++) {
        struct series *x = all[i];
        if (!x->reported && x->s.n == 0 && x->seen_ns < oldest_ns)
            free(x);
        else
            all[kept++] = x;
    }
    if (kept != nall) {
        nall = kept;
        reindex();
    }
}

/* ---- findings -------------------------------------------------------------------------- */

static void format_bytes(double bytes, char *buf, size_t size)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (fabs(bytes) >= 1024 && u < 4) {
        bytes /= 1024;
        u++;
    }
    snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
}

static void format_p(double p, char *buf, size_t size)
{
    if (p < 0.0001)
        snprintf(buf, size, "p<0.0001");
    else
        snprintf(buf, size, "p=%.4f", p);
}

/* "live heap of allocations from leak_one grows 12.3 KiB/s over 24 s to 1.2 MiB (...)" */
static void describe(const struct series *x, const struct tl_trend_result *r, char *buf,
                     size_t size)
{
    char p[32], rate[32], now[32], what[320];
    format_p(r->p, p, sizeof p);
    double last = tl_series_last(&x->s)->value;
    if (x->kind == TL_SERIES_THREADS || x->kind == TL_SERIES_TASKS) {
        snprintf(buf, size, "%s grow %.1f/s over %.0f s to %.0f (Mann-Kendall %s)",
                 x->kind == TL_SERIES_THREADS ? "live threads" : "in-flight tasks", r->slope,
                 r->span_s, last, p);
        return;
    }
    format_bytes(r->slope, rate, sizeof rate);
    format_bytes(last, now, sizeof now);
    if (x->kind == TL_SERIES_SITE) {
        char fn[256];
        if (namer && x->site)
            namer(x->site, fn, sizeof fn);
        else
            snprintf(fn, sizeof fn, "site %" PRIu64, x->key);
        snprintf(what, sizeof what, "live heap of allocations from %s", fn);
    } else {
        snprintf(what, sizeof what, "%s",
                 x->kind == TL_SERIES_RSS ? "resident memory (RSS)" : "live heap");
    }
    snprintf(buf, size, "%s grows %s/s over %.0f s to %s (Mann-Kendall %s)", what, rate,
             r->span_s, now, p);
}

static int finding_kind(int kind)
{
    switch (kind) {
    case TL_SERIES_THREADS: return TL_FINDING_THREAD_GROWTH;
    case TL_SERIES_TASKS: return TL_FINDING_TASK_GROWTH;
    default: return TL_FINDING_MEMORY_GROWTH;
    }
}

/* Publishes the finding for `x`. Returns 1, or 0 when the arena is exhausted. */
static int report(const struct series *x, const struct tl_trend_result *r)
{
    unsigned nitems = x->kind == TL_SERIES_SITE && x->site;
    struct tl_finding *f =
        tl_finding_new(finding_kind(x->kind), TL_SEVERITY_WARNING, 0, nitems);
    if (!f)
        return 0;
    if (nitems)
        f->items[0] = (struct tl_finding_item){.role = TL_ROLE_STACK, .stack = x->site,
                                               .detail = "allocated"};
    char summary[512];
    describe(x, r, summary, sizeof summary);
    f->summary = tl_finding_text(summary); /* NULL: store.c composes a plain one */
    tl_publish(&f->pub);
    return 1;
}

/* ---- API ------------------------------------------------------------------------------- */

void tl_growth_set_namer(tl_stack_name_fn fn)
{
    namer = fn;
}

static int64_t window_ns(void)
{
    return (int64_t)(tl_options.trend_window * 1e9);
}

/*
 * Records `value` for series (kind, key). Observations must come in time
 * order per series (later ones are ignored otherwise), as must non-finite
 * values. Silently does nothing when the table is full. Can't fail.
 */
void tl_growth_observe(int kind, uint64_t key, struct tl_stack *site, int64_t t_ns,
                       double value)
{
    if (kind < TL_SERIES_HEAP || kind > TL_SERIES_SITE)
        return;
    struct series *x = series_get(kind, key, site);
    if (!x || x->reported)
        return;
    if (t_ns > x->seen_ns)
        x->seen_ns = t_ns;
    const struct tl_trend_point *last = tl_series_last(&x->s);
    if (last && t_ns - last->t_ns < window_ns() / (TL_TREND_CAP - 8))
        return; /* keeps the ring spread over the whole window */
    tl_series_add(&x->s, t_ns, value);
}

/*
 * Trims every series to the window ending at `now_ns` (same clock as the
 * observations), tests those with a new point, and publishes a warning for
 * each series whose last TL_GROWTH_CONFIRM tests said it grows, once per
 * series. Returns how many findings were published.
 */
static int explained; /* a site or thread series was reported: heap/RSS growth is its echo */

int tl_growth_tick(int64_t now_ns)
{
    int64_t oldest = now_ns - window_ns();
    struct tl_trend_params bytes = {
        .min_duration_ns = (int64_t)(tl_options.trend_min_duration * 1e9),
        .alpha = tl_options.trend_alpha,
        .min_slope = tl_options.trend_min_bytes_per_s,
    };
    struct tl_trend_params items = bytes;
    items.min_slope = tl_options.trend_min_items_per_s;
    int published = 0;
    /*
     * Specific series first (a site, threads, tasks), then the process-wide
     * heap and RSS: those only report growth nothing more specific explains,
     * and wait longer, so a site's noisier estimate can confirm first.
     */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < nall; i++) {
            struct series *x = all[i];
            int aggregate = x->kind == TL_SERIES_HEAP || x->kind == TL_SERIES_RSS;
            if (x->reported || aggregate != pass)
                continue;
            if (aggregate && explained) {
                x->reported = 1; /* a site or thread finding already says why */
                tl_series_clear(&x->s);
                continue;
            }
            tl_series_trim(&x->s, oldest);
            const struct tl_trend_point *last = tl_series_last(&x->s);
            if (!last || last->t_ns == x->tested_ns)
                continue; /* nothing new: the verdict stands */
            x->tested_ns = last->t_ns;
            int counts = x->kind == TL_SERIES_THREADS || x->kind == TL_SERIES_TASKS;
            struct tl_trend_result r;
            if (!tl_trend_test(&x->s, counts ? &items : &bytes, &r)) {
                x->streak = 0;
                continue;
            }
            if (++x->streak < (aggregate ? TL_GROWTH_CONFIRM_AGGREGATE : TL_GROWTH_CONFIRM))
                continue;
            published += report(x, &r);
            x->reported = 1; /* even when the arena is out: the finding would never fit */
            explained |= !aggregate && x->kind != TL_SERIES_TASKS;
            tl_series_clear(&x->s);
        }
    }
    drop_stale(oldest);
    return published;
}

void tl_growth_after_fork_child(void)
{
    explained = 0;
    for (int i = 0; i < nall; i++)
        free(all[i]);
    free(all);
    free(slots);
    all = NULL;
    slots = NULL;
    index_size = 0;
    nall = 0;
    full_logged = 0;
}
