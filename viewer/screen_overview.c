/*
 * screen_overview.c - view 1: the processes, the latest counters of the
 * followed process with a sparkline of each, and the findings so far, newest
 * first (the list, shared with the Findings view).
 */
#include "screen.h"

#include <inttypes.h>

#include "spark.h"

#define SPARK_WIDTH 30

static void put_metric(FILE *out, const struct tl_env *env, const char *label, const char *value,
                       const struct tl_series *s)
{
    char spark[SPARK_WIDTH * 4 + 1];

    tl_spark(spark, sizeof(spark), s, SPARK_WIDTH, env->utf8);
    fprintf(out, "  %-18s %-22s %s\n", label, value, spark);
}

static void count(char *buf, size_t len, int64_t v)
{
    if (v == TL_NULL)
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%" PRId64, v);
}

static void bytes(char *buf, size_t len, int64_t v)
{
    if (v == TL_NULL)
        snprintf(buf, len, "-");
    else
        tl_fmt_bytes(buf, len, (double)v);
}

/*
 * The agent's collector thread: its share of the time the kept samples span
 * and its longest tick, "0.12%, max 3.4ms"; "-" before two samples.
 */
static void collector(char *buf, size_t len, const struct tl_overview *o, bool utf8)
{
    char longest[32];

    if (o->collector_share < 0 || o->collector_max_ns == TL_NULL) {
        snprintf(buf, len, "-");
        return;
    }
    tl_fmt_wait(longest, sizeof(longest), o->collector_max_ns, utf8);
    snprintf(buf, len, "%.2f%%, max %s", o->collector_share * 100, longest);
}

static void head(FILE *out, const struct tl_model *m, const struct tl_env *env)
{
    const struct tl_overview *o = &m->ov;
    char a[32], b[32], v[96];

    for (size_t i = 0; i < m->procs.len; i++) {
        fputs("Process ", out);
        tl_screen_put_process(out, tl_vec_at(&m->procs, i), env);
        fputc('\n', out);
    }
    if (m->procs.len == 0)
        fputs("No process recorded yet\n", out);
    if (o->t_ns == TL_NULL) {
        fputs("  no samples yet\n", out);
    } else {
        count(a, sizeof(a), o->threads_live);
        count(b, sizeof(b), o->threads_total);
        snprintf(v, sizeof(v), "%s live / %s total", a, b);
        put_metric(out, env, "Threads", v, &o->threads);
        count(v, sizeof(v), o->tasks_in_flight);
        put_metric(out, env, "Tasks in flight", v, &o->tasks);
        bytes(v, sizeof(v), o->heap_live);
        put_metric(out, env, "Heap live", v, &o->heap);
        bytes(v, sizeof(v), o->rss);
        put_metric(out, env, "RSS", v, &o->rss_hist);
        tl_fmt_rate(v, sizeof(v), o->acq_rate);
        put_metric(out, env, "Lock acquisitions", v, &o->acq);
        tl_fmt_rate(v, sizeof(v), o->cont_rate);
        put_metric(out, env, "Lock contentions", v, &o->cont);
        collector(v, sizeof(v), o, env->utf8);
        put_metric(out, env, "Collector", v, &o->ticks);
        bytes(v, sizeof(v), o->agent_bytes);
        put_metric(out, env, "Agent memory", v, &o->agent_mem);
    }
    fprintf(out, "Findings: %zu (%zu error, %zu warning, %zu info), newest first\n",
            m->run.findings.len, m->run.n_error, m->run.n_warning, m->run.n_info);
}

const struct tl_screen tl_screen_overview = {
    .name = "Overview",
    .cols = tl_finding_cols,
    .ncols = TL_FINDING_COLS,
    .sort_col = 1,
    .invert = true,
    .empty = "no findings",
    .fill = tl_findings_fill,
    .head = head,
    .detail = tl_findings_detail,
};
