/*
 * export_metrics.c - fill struct tl_metrics from the database: the process
 * row, its latest `sample`, the sum of `lock.wait_ns`, and its findings that
 * still hold (resolved_ns NULL), counted by kind and severity, suppressed
 * ones apart. Then one call to tl_openmetrics_format().
 */
#include "export_metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "openmetrics.h"
#include "vec.h"
#include "xalloc.h"

#define ANY_PID (-1)

struct proc_metrics {
    int64_t proc;          /* process.id */
    struct tl_metrics m;   /* m.exe points to exe */
    char *exe;             /* malloc'ed, may be NULL */
};

static int64_t col(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? TL_OM_UNKNOWN : sqlite3_column_int64(st, i);
}

/* Runs sql with ?1 = proc and hands each row to fn. Returns 0 or -EIO. */
static int each_row(struct tl_db *db, const char *sql, int64_t proc,
                    void (*fn)(sqlite3_stmt *st, struct tl_metrics *m), struct tl_metrics *m)
{
    sqlite3_stmt *st = tl_db_prepare(db, sql);
    int rc;

    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, proc);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn(st, m);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : tl_db_fail(db);
}

static void take_sample(sqlite3_stmt *st, struct tl_metrics *m)
{
    m->t_ns = col(st, 0);
    m->threads_live = col(st, 1);
    m->threads_total = col(st, 2);
    m->locks = col(st, 3);
    m->lock_edges = col(st, 4);
    m->acquisitions = col(st, 5);
    m->contentions = col(st, 6);
    m->heap_live_bytes = col(st, 7);
    m->heap_live_count = col(st, 8);
    m->heap_alloc_bytes = col(st, 9);
    m->heap_free_bytes = col(st, 10);
    m->rss_bytes = col(st, 11);
    m->fds = col(st, 12);
    m->tasks_in_flight = col(st, 13);
    m->tasks_queued = col(st, 14);
    m->tasks_total = col(st, 15);
    m->agent_bytes = col(st, 16);
    m->collector_ns = col(st, 17);
}

static void take_wait(sqlite3_stmt *st, struct tl_metrics *m)
{
    m->lock_wait_ns = col(st, 0);
}

static void take_finding(sqlite3_stmt *st, struct tl_metrics *m)
{
    int k = tl_metrics_kind_index((const char *)sqlite3_column_text(st, 0));
    int s = tl_metrics_severity_index((const char *)sqlite3_column_text(st, 1));
    int64_t n = sqlite3_column_int64(st, 3);

    if (sqlite3_column_int64(st, 2)) {
        m->findings_suppressed = (m->findings_suppressed == TL_OM_UNKNOWN ? 0
                                  : m->findings_suppressed) + n;
    } else if (k >= 0 && s >= 0) {
        m->findings[k][s] += n;
    }
}

/* Reads one process's values into p. Returns 0 or -EIO. */
static int read_process(struct tl_db *db, struct proc_metrics *p)
{
    static const char sample_sql[] =
        "SELECT t_ns, threads_live, threads_total, locks, lock_edges, acquisitions,"
        " contentions, heap_live_bytes, heap_live_count, heap_alloc_bytes, heap_free_bytes,"
        " rss_bytes, fds, tasks_in_flight, tasks_queued, tasks_total, agent_bytes,"
        " (SELECT sum(tick_ns) FROM sample WHERE proc = ?1) FROM sample"
        " WHERE proc = ?1 ORDER BY t_ns DESC LIMIT 1";
    static const char wait_sql[] =
        "SELECT coalesce(sum(wait_ns), 0) FROM lock WHERE proc = ?1";
    static const char finding_sql[] =
        "SELECT kind, severity, suppressed != 0, count(*) FROM finding"
        " WHERE proc = ?1 AND resolved_ns IS NULL GROUP BY 1, 2, 3";
    int rc = each_row(db, sample_sql, p->proc, take_sample, &p->m);

    p->m.findings_suppressed = 0;
    if (rc == 0)
        rc = each_row(db, wait_sql, p->proc, take_wait, &p->m);
    if (rc == 0)
        rc = each_row(db, finding_sql, p->proc, take_finding, &p->m);
    return rc;
}

/* Reads the processes (the last image of each pid, or of `pid`) into procs. */
static int read_processes(struct tl_db *db, int64_t pid, struct tl_vec *procs)
{
    sqlite3_stmt *st = tl_db_prepare(
        db, "SELECT id, pid, exe, start_ns FROM process p WHERE (?1 < 0 OR pid = ?1)"
            " AND id = (SELECT max(id) FROM process q WHERE q.pid = p.pid) ORDER BY id");
    int rc;

    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, pid);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct proc_metrics *p = tl_vec_push(procs);
        const unsigned char *exe = sqlite3_column_text(st, 2);

        tl_metrics_init(&p->m);
        p->proc = sqlite3_column_int64(st, 0);
        p->m.pid = sqlite3_column_int64(st, 1);
        p->exe = exe ? tl_xstrdup((const char *)exe) : NULL;
        p->m.exe = p->exe;
        p->m.start_ns = col(st, 3);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return tl_db_fail(db);
    for (size_t i = 0; rc == SQLITE_DONE && i < procs->len; i++)
        if (read_process(db, tl_vec_at(procs, i)) != 0)
            return -EIO;
    return 0;
}

/* Formats procs, growing the buffer until the text fits, and writes it. */
static int write_text(const struct tl_vec *procs, FILE *out)
{
    struct tl_metrics *m = tl_xcalloc(procs->len ? procs->len : 1, sizeof(*m));
    size_t len = 16384;
    char *buf = NULL;
    int n;

    for (size_t i = 0; i < procs->len; i++)
        m[i] = ((struct proc_metrics *)tl_vec_at(procs, i))->m;
    do {
        len *= 2;
        buf = tl_xrealloc(buf, len, 1);
        n = tl_openmetrics_format(buf, len, m, procs->len);
    } while (n == -ENOSPC && len < ((size_t)1 << 30));
    if (n > 0)
        fwrite(buf, 1, (size_t)n, out);
    free(buf);
    free(m);
    return n < 0 ? n : 0;
}

/*
 * Writes the OpenMetrics text of every process (pid < 0) or of `pid` to out.
 * Returns 0, or a negative errno with a one-line message in err: -ENOENT no
 * such pid, -EIO a database error.
 */
int tl_export_metrics(struct tl_db *db, int64_t pid, FILE *out, char *err, size_t errlen)
{
    struct tl_vec procs;
    int rc;

    tl_vec_init(&procs, sizeof(struct proc_metrics));
    rc = tl_db_begin(db);
    if (rc == 0) {
        rc = read_processes(db, pid, &procs);
        tl_db_end(db);
    }
    if (rc != 0) {
        snprintf(err, errlen, "%s", tl_db_error(db));
    } else if (pid != ANY_PID && procs.len == 0) {
        snprintf(err, errlen, "no process with pid %" PRId64 " in the database", pid);
        rc = -ENOENT;
    } else if (write_text(&procs, out) != 0) {
        snprintf(err, errlen, "the metrics text is too large");
        rc = -EIO;
    }
    for (size_t i = 0; i < procs.len; i++)
        free(((struct proc_metrics *)tl_vec_at(&procs, i))->exe);
    tl_vec_free(&procs);
    return rc;
}
