/*
 * openmetrics.c - the OpenMetrics text of struct tl_metrics. Each metric
 * family is written once, its metadata (# HELP, # TYPE, # UNIT) then one
 * sample per process, labelled pid and exe; the text ends with "# EOF".
 * Counter families are named without the suffix and their samples end in
 * _total, as OpenMetrics requires. Seconds are written from nanoseconds with
 * integer arithmetic (no printf of doubles, which may allocate).
 */
#include "openmetrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "schema.h"
#include "utf8.h"

static const char *const kind_names[TL_OM_KINDS] = {
    TL_KIND_LOCK_ORDER, TL_KIND_DEADLOCK, TL_KIND_LOCK_MISUSE, TL_KIND_THREAD_LEAK,
    TL_KIND_BLOCKED, TL_KIND_THREAD_GROWTH, TL_KIND_TASK_LEAK, TL_KIND_TASK_GROWTH,
    TL_KIND_MEMORY_GROWTH, TL_KIND_MEMORY_LEAK, TL_KIND_LIMIT,
};
static const char *const severity_names[TL_OM_SEVERITIES] = {
    TL_SEV_ERROR, TL_SEV_WARNING, TL_SEV_INFO,
};

enum type { GAUGE, COUNTER };
enum scale { PLAIN, NS_TO_SECONDS };

/* A family whose value is one int64 field of struct tl_metrics. */
struct family {
    const char *name;  /* family name; a counter's samples add _total */
    enum type type;
    const char *unit;  /* "bytes", "seconds" or NULL; the name ends with it */
    size_t field;      /* offsetof the value in struct tl_metrics */
    enum scale scale;
    const char *help;
};

#define F(name, type, unit, field, scale, help) \
    {name, type, unit, offsetof(struct tl_metrics, field), scale, help}

static const struct family families[] = {
    F("threadlens_threads_live", GAUGE, NULL, threads_live, PLAIN,
      "Threads alive at the latest tick."),
    F("threadlens_threads_created", COUNTER, NULL, threads_total, PLAIN,
      "Threads seen since the process started."),
    F("threadlens_tasks_in_flight", GAUGE, NULL, tasks_in_flight, PLAIN,
      "Tasks started and not ended (task API)."),
    F("threadlens_tasks_queued", GAUGE, NULL, tasks_queued, PLAIN,
      "Tasks submitted and not started (task API)."),
    F("threadlens_tasks_submitted", COUNTER, NULL, tasks_total, PLAIN,
      "Tasks submitted since the process started (task API)."),
    F("threadlens_heap_live_bytes", GAUGE, "bytes", heap_live_bytes, PLAIN,
      "Bytes allocated with the malloc family and not freed."),
    F("threadlens_heap_live_objects", GAUGE, NULL, heap_live_count, PLAIN,
      "Blocks allocated with the malloc family and not freed."),
    F("threadlens_heap_allocated_bytes", COUNTER, "bytes", heap_alloc_bytes, PLAIN,
      "Bytes allocated with the malloc family since the process started."),
    F("threadlens_heap_freed_bytes", COUNTER, "bytes", heap_free_bytes, PLAIN,
      "Bytes freed since the process started."),
    F("threadlens_rss_bytes", GAUGE, "bytes", rss_bytes, PLAIN,
      "Resident set size of the process."),
    F("threadlens_open_fds", GAUGE, NULL, fds, PLAIN, "Open file descriptors."),
    F("threadlens_locks", GAUGE, NULL, locks, PLAIN, "Locks known to the agent."),
    F("threadlens_lock_edges", GAUGE, NULL, lock_edges, PLAIN,
      "Edges of the lock-order graph."),
    F("threadlens_lock_acquisitions", COUNTER, NULL, acquisitions, PLAIN,
      "Lock acquisitions since the process started."),
    F("threadlens_lock_contentions", COUNTER, NULL, contentions, PLAIN,
      "Lock acquisitions that had to wait."),
    F("threadlens_lock_wait_seconds", COUNTER, "seconds", lock_wait_ns, NS_TO_SECONDS,
      "Time contended lock acquisitions waited, summed over all locks."),
    F("threadlens_agent_bytes", GAUGE, "bytes", agent_bytes, PLAIN,
      "Memory the threadlens agent holds for itself in the process, resident."),
    F("threadlens_collector_seconds", COUNTER, "seconds", collector_ns, NS_TO_SECONDS,
      "Time the threadlens agent's collector thread took, in ticks and drain passes."),
    F("threadlens_findings_suppressed", GAUGE, NULL, findings_suppressed, PLAIN,
      "Findings silenced by a suppressions file."),
    F("threadlens_process_start_time_seconds", GAUGE, "seconds", start_ns, NS_TO_SECONDS,
      "Start time of the process since the Unix epoch."),
    F("threadlens_last_tick_timestamp_seconds", GAUGE, "seconds", t_ns, NS_TO_SECONDS,
      "Time of the tick these values are from, since the Unix epoch."),
};

#undef F

/* Sets every value to TL_OM_UNKNOWN and every finding count to 0. */
void tl_metrics_init(struct tl_metrics *m)
{
    memset(m, 0, sizeof(*m));
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
        *(int64_t *)((char *)m + families[i].field) = TL_OM_UNKNOWN;
    m->pid = TL_OM_UNKNOWN;
}

static int index_of(const char *const *names, int n, const char *s)
{
    for (int i = 0; s && i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

/* Returns the row of findings[] for a TL_KIND_* string, or -1. */
int tl_metrics_kind_index(const char *kind)
{
    return index_of(kind_names, TL_OM_KINDS, kind);
}

/* Returns the column of findings[] for a TL_SEV_* string, or -1. */
int tl_metrics_severity_index(const char *severity)
{
    return index_of(severity_names, TL_OM_SEVERITIES, severity);
}

/* The caller's buffer; `full` once something did not fit. */
struct out {
    char *buf;
    size_t len;
    size_t pos;
    bool full;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (o->full)
        return;
    va_start(ap, fmt);
    n = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->len - o->pos)
        o->full = true;
    else
        o->pos += (size_t)n;
}

/*
 * A label value: backslash, quote and newline escaped, other control
 * characters dropped, and bytes that are not UTF-8 replaced by U+FFFD.
 */
static void put_label_value(struct out *o, const char *s)
{
    put(o, "\"");
    while (*s) {
        int n = tl_utf8_len(s);

        if (*s == '\\' || *s == '"')
            put(o, "\\%c", *s);
        else if (*s == '\n')
            put(o, "\\n");
        else if (n > 1)
            put(o, "%.*s", n, s);
        else if (n == 0)
            put(o, "%s", TL_UTF8_REPLACEMENT);
        else if ((unsigned char)*s >= 0x20 && *s != 0x7f)
            put(o, "%c", *s);
        s += n > 1 ? n : 1;
    }
    put(o, "\"");
}

static void put_labels(struct out *o, const struct tl_metrics *m)
{
    put(o, "{pid=\"%" PRId64 "\"", m->pid);
    if (m->exe) {
        put(o, ",exe=");
        put_label_value(o, m->exe);
    }
}

static void put_value(struct out *o, int64_t v, enum scale scale)
{
    if (scale == PLAIN) {
        put(o, " %" PRId64 "\n", v);
        return;
    }
    if (v < 0) { /* -1.5 s is -1 s and -0.5 s: write the sign, then the magnitude */
        put(o, " -");
        v = v == INT64_MIN ? INT64_MAX : -v;
    } else {
        put(o, " ");
    }
    put(o, "%" PRId64 ".%09" PRId64 "\n", v / 1000000000, v % 1000000000);
}

static void put_meta(struct out *o, const char *name, enum type type, const char *unit,
                     const char *help)
{
    put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type == COUNTER ? "counter" : "gauge");
    if (unit)
        put(o, "# UNIT %s %s\n", name, unit);
}

static void put_family(struct out *o, const struct family *f, const struct tl_metrics *procs,
                       size_t n)
{
    put_meta(o, f->name, f->type, f->unit, f->help);
    for (size_t i = 0; i < n; i++) {
        int64_t v = *(const int64_t *)((const char *)&procs[i] + f->field);

        if (v == TL_OM_UNKNOWN)
            continue;
        put(o, "%s%s", f->name, f->type == COUNTER ? "_total" : "");
        put_labels(o, &procs[i]);
        put(o, "}");
        put_value(o, v, f->scale);
    }
}

/* Every kind and severity, zeros included, so that alerts need no absent(). */
static void put_findings(struct out *o, const struct tl_metrics *procs, size_t n)
{
    put_meta(o, "threadlens_findings", GAUGE, NULL,
             "Findings not suppressed, by kind and severity.");
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < TL_OM_KINDS; k++)
            for (int s = 0; s < TL_OM_SEVERITIES; s++) {
                put(o, "threadlens_findings");
                put_labels(o, &procs[i]);
                put(o, ",kind=\"%s\",severity=\"%s\"}", kind_names[k], severity_names[s]);
                put_value(o, procs[i].findings[k][s], PLAIN);
            }
}

/*
 * Formats the n processes' values into buf (NUL-terminated). Returns the
 * length of the text, or -ENOSPC when it does not fit in len bytes (buf then
 * holds a truncated text that must not be published). Can't fail otherwise.
 */
int tl_openmetrics_format(char *buf, size_t len, const struct tl_metrics *procs, size_t n)
{
    struct out o = {.buf = buf, .len = len, .pos = 0, .full = len == 0};

    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
        put_family(&o, &families[i], procs, n);
    put_findings(&o, procs, n);
    put(&o, "# EOF\n");
    if (o.full || o.pos > (size_t)INT32_MAX)
        return -ENOSPC;
    return (int)o.pos;
}
