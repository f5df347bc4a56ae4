/*
 * openmetrics.h - one tick of threadlens counters as OpenMetrics 1.0 text
 * (the exposition format Prometheus scrapes; a textfile collector reads
 * it from a file). Shared by threadlens-top --metrics, which fills struct
 * tl_metrics from a database, and the agent, which can fill it from its live
 * counters and write the same text every tick.
 *
 * The writer formats into a caller's buffer and allocates nothing, takes no
 * lock and uses no floating point, so the agent's collector can call it.
 * Pure function of its arguments: any thread may call it.
 */
#ifndef TL_OPENMETRICS_H
#define TL_OPENMETRICS_H

#include <stddef.h>
#include <stdint.h>

#define TL_OM_UNKNOWN INT64_MIN /* a value not known: its line is left out */
#define TL_OM_KINDS 11          /* finding kinds, in schema.h order */
#define TL_OM_SEVERITIES 3      /* error, warning, info */

/* One process's values at one tick. Counts are totals since it started. */
struct tl_metrics {
    int64_t pid;             /* label pid */
    const char *exe;         /* label exe; NULL leaves the label out */
    int64_t t_ns;            /* time of the tick, ns since the epoch */
    int64_t start_ns;        /* when the process started, ns since the epoch */
    int64_t threads_live;    /* threads alive */
    int64_t threads_total;   /* threads seen since start */
    int64_t tasks_in_flight; /* tasks started, not ended */
    int64_t tasks_queued;    /* tasks submitted, not started */
    int64_t tasks_total;     /* tasks submitted */
    int64_t heap_live_bytes; /* malloc'ed bytes not freed */
    int64_t heap_live_count; /* blocks not freed */
    int64_t heap_alloc_bytes; /* bytes allocated */
    int64_t heap_free_bytes; /* bytes freed */
    int64_t rss_bytes;       /* resident set size */
    int64_t fds;             /* open file descriptors */
    int64_t locks;           /* locks known */
    int64_t lock_edges;      /* lock-order edges known */
    int64_t acquisitions;    /* lock acquisitions */
    int64_t contentions;     /* acquisitions that waited */
    int64_t lock_wait_ns;    /* ns contended acquisitions waited, all locks */
    int64_t agent_bytes;     /* the agent's own memory (sample.agent_bytes) */
    int64_t collector_ns;    /* the agent's collector thread's time (sample.tick_ns summed) */
    int64_t findings[TL_OM_KINDS][TL_OM_SEVERITIES]; /* not suppressed, by kind, severity */
    int64_t findings_suppressed; /* suppressed findings, any kind */
};

void tl_metrics_init(struct tl_metrics *m);
int tl_metrics_kind_index(const char *kind);
int tl_metrics_severity_index(const char *severity);
int tl_openmetrics_format(char *buf, size_t len, const struct tl_metrics *procs, size_t n);

#endif
