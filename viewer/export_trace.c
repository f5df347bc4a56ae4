/*
 * export_trace.c - the --trace document. Sections: reading spans (thread
 * lifetimes, task runs, waits) into one list, making them nest, and writing
 * the events.
 *
 * Complete ("X") events on one thread must nest: a viewer draws them as a
 * stack of slices. The database does not promise that (a task's times come
 * from the task API, a thread's start is when the agent first saw it), so
 * every span is first clamped into its thread's lifetime, the spans of a
 * thread are sorted parents first (start ascending, end descending), and a
 * span that would end after its parent is cut at the parent's end, marked
 * "clipped" in its args.
 *
 * What the database cannot give: lock holds and past waits. It keeps each
 * thread's current wait (thread_state) and lock totals, not a history of
 * acquisitions, so only waits still in progress at the last tick (or at
 * exit) appear.
 */
#include "export_trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "vec.h"
#include "xalloc.h"

#define MAIN_THREAD 1     /* thread.id of a process's main thread */
#define NO_TID_BASE 4000000000LL /* made-up tids for threads without one */
#define MAX_NS ((int64_t)1 << 62)   /* times are clamped below this */

enum span_kind { SPAN_THREAD, SPAN_TASK, SPAN_WAIT }; /* parents first on ties */

struct span {
    int64_t pid;          /* trace pid: process.pid */
    int64_t tid;          /* trace tid: thread.tid */
    int64_t start;        /* ns since the epoch */
    int64_t end;          /* ns since the epoch, >= start */
    enum span_kind kind;
    char *name;           /* malloc'ed */
    int64_t id;           /* thread.id, task.id or lock.id (args) */
    int64_t extra;        /* task: queue wait ns; wait: wait_lock; else 0 */
    bool open;            /* still running at the end of the data */
    bool clipped;         /* cut to fit its parent */
};

struct proc {
    int64_t id;           /* process.id */
    int64_t pid;
    char *exe;            /* malloc'ed, may be NULL */
    int64_t start;        /* start_ns */
    int64_t end;          /* end_ns, else its last sample, else start */
    bool ended;           /* end_ns was set */
};

struct trace {
    struct tl_db *db;
    struct tl_json j;
    int64_t t0;           /* ns of ts 0: the first process start */
    struct tl_vec procs;  /* struct proc */
    struct tl_vec spans;  /* struct span of the process being written */
};

/* ---- reading ----------------------------------------------------------- */

/*
 * Returns column i, or dflt when it is NULL. Times are clamped to [0, 2^62]
 * so that differences of two never overflow, whatever a damaged database
 * holds; every integer this file reads is a time or an id, and ids fit.
 */
static int64_t col(sqlite3_stmt *st, int i, int64_t dflt)
{
    int64_t v = sqlite3_column_type(st, i) == SQLITE_NULL ? dflt : sqlite3_column_int64(st, i);

    return v < 0 ? 0 : v > MAX_NS ? MAX_NS : v;
}

static const char *text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static char *dup_or_null(const char *s)
{
    return s ? tl_xstrdup(s) : NULL;
}

static int done(struct trace *t, sqlite3_stmt *st, int rc)
{
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : tl_db_fail(t->db);
}

static int read_processes(struct trace *t, int64_t pid)
{
    sqlite3_stmt *st = tl_db_prepare(
        t->db, "SELECT id, pid, exe, coalesce(start_ns, 0), end_ns,"
               " (SELECT max(t_ns) FROM sample s WHERE s.proc = process.id),"
               " (SELECT max(max(start_ns), coalesce(max(end_ns), 0)) FROM thread h"
               "  WHERE h.proc = process.id)"
               " FROM process WHERE ?1 < 0 OR pid = ?1 ORDER BY id");
    int rc;

    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, pid);
    t->t0 = INT64_MAX;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct proc *p = tl_vec_push(&t->procs);
        int64_t last = col(st, 5, 0) > col(st, 6, 0) ? col(st, 5, 0) : col(st, 6, 0);

        p->id = sqlite3_column_int64(st, 0);
        p->pid = sqlite3_column_int64(st, 1);
        p->exe = dup_or_null(text(st, 2));
        p->start = col(st, 3, 0);
        p->ended = sqlite3_column_type(st, 4) != SQLITE_NULL;
        p->end = p->ended ? col(st, 4, 0) : last;
        if (p->end < p->start)
            p->end = p->start;
        if (p->start < t->t0)
            t->t0 = p->start;
    }
    return done(t, st, rc);
}

static struct span *add_span(struct trace *t, const struct proc *p, int64_t tid, int64_t start,
                             int64_t end, enum span_kind kind, char *name)
{
    struct span *s = tl_vec_push(&t->spans);

    *s = (struct span){.pid = p->pid, .tid = tid, .start = start, .end = end < start ? start : end,
                       .kind = kind, .name = name};
    return s;
}

/* The tid a thread is drawn on: its kernel tid, or a made-up one when unknown. */
static int64_t tid_of(sqlite3_stmt *st, int col_tid, int col_id)
{
    return col(st, col_tid, NO_TID_BASE + col(st, col_id, 0));
}

/* One lifetime span per thread; the main thread lives as long as its process. */
static int read_threads(struct trace *t, const struct proc *p)
{
    sqlite3_stmt *st = tl_db_prepare(
        t->db, "SELECT id, tid, name, start_ns, end_ns FROM thread WHERE proc = ?1 ORDER BY id");
    int rc;

    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, p->id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        bool open = sqlite3_column_type(st, 4) == SQLITE_NULL;
        int64_t start = id == MAIN_THREAD ? p->start : col(st, 3, p->start);
        int64_t end = open || id == MAIN_THREAD ? p->end : col(st, 4, p->end);
        const char *name = text(st, 2);
        char label[64];
        struct span *s;

        if (!name || !name[0]) {
            snprintf(label, sizeof(label), "thread %" PRId64, id);
            name = label;
        }
        s = add_span(t, p, tid_of(st, 1, 0), start, end, SPAN_THREAD, tl_xstrdup(name));
        s->id = id;
        s->open = open && !p->ended;
    }
    return done(t, st, rc);
}

/* Task runs, on the thread that ran them. */
static int read_tasks(struct trace *t, const struct proc *p)
{
    sqlite3_stmt *st = tl_db_prepare(
        t->db, "SELECT k.id, k.name, k.queued_ns, k.started_ns, k.ended_ns, h.tid, h.id"
               " FROM task k JOIN thread h ON h.proc = k.proc AND h.id = k.run_thread"
               " WHERE k.proc = ?1 AND k.started_ns IS NOT NULL ORDER BY k.id");
    int rc;

    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, p->id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = text(st, 1);
        int64_t started = col(st, 3, 0);
        char *label = tl_xmalloc(strlen(name ? name : "") + 32);
        struct span *s;

        sprintf(label, "task %s", name && name[0] ? name : "");
        if (!name || !name[0])
            sprintf(label, "task #%" PRId64, (int64_t)sqlite3_column_int64(st, 0));
        s = add_span(t, p, tid_of(st, 5, 6), started, col(st, 4, p->end), SPAN_TASK, label);
        s->id = sqlite3_column_int64(st, 0);
        s->extra = started - col(st, 2, started);
        s->open = sqlite3_column_type(st, 4) == SQLITE_NULL;
    }
    return done(t, st, rc);
}

/* Waits in progress at the last tick that lasted at least TL_TRACE_MIN_WAIT_NS. */
static int read_waits(struct trace *t, const struct proc *p)
{
    sqlite3_stmt *st = tl_db_prepare(
        t->db, "SELECT s.wait_kind, s.wait_since_ns, s.wait_lock, h.tid, h.id, h.end_ns,"
               " coalesce(l.name, printf('0x%x', l.addr))"
               " FROM thread_state s JOIN thread h ON h.proc = s.proc AND h.id = s.thread"
               " LEFT JOIN lock l ON l.proc = s.proc AND l.id = s.wait_lock"
               " WHERE s.proc = ?1 AND s.wait_kind IS NOT NULL"
               " AND s.wait_since_ns IS NOT NULL ORDER BY s.thread");
    int rc;

    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, p->id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *kind = text(st, 0) ? text(st, 0) : "?", *lock = text(st, 6);
        int64_t since = col(st, 1, 0), end = col(st, 5, p->end);
        char *label;
        struct span *s;

        if (end - since < TL_TRACE_MIN_WAIT_NS)
            continue;
        label = tl_xmalloc(strlen(kind) + strlen(lock ? lock : "") + 16);
        sprintf(label, "wait %s%s%s", kind, lock ? " " : "", lock ? lock : "");
        s = add_span(t, p, tid_of(st, 3, 4), since, end, SPAN_WAIT, label);
        s->id = sqlite3_column_int64(st, 4);
        s->extra = col(st, 2, 0);
        s->open = !p->ended;
    }
    return done(t, st, rc);
}

/* ---- nesting ----------------------------------------------------------- */

static int span_order(const void *a, const void *b)
{
    const struct span *x = a, *y = b;

    if (x->tid != y->tid)
        return x->tid < y->tid ? -1 : 1;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->end != y->end)
        return x->end > y->end ? -1 : 1;
    return (int)x->kind - (int)y->kind;
}

/* The lifetime span of thread tid that overlaps s, among spans [from, to). */
static const struct span *lifetime(const struct span *spans, size_t from, size_t to,
                                   const struct span *s)
{
    for (size_t k = from; k < to; k++)
        if (spans[k].kind == SPAN_THREAD && spans[k].start <= s->end && s->start <= spans[k].end)
            return &spans[k];
    return NULL;
}

/*
 * Clamps child spans into their thread's lifetime. spans are sorted by tid;
 * a tid has one lifetime span, or a few when exec reused it, so the scan of
 * its group is short.
 */
static void clamp_to_thread(struct span *spans, size_t n)
{
    for (size_t from = 0, to; from < n; from = to) {
        for (to = from; to < n && spans[to].tid == spans[from].tid;)
            to++;
        for (size_t i = from; i < to; i++) {
            const struct span *life = spans[i].kind == SPAN_THREAD
                                          ? NULL : lifetime(spans, from, to, &spans[i]);

            if (!life)
                continue;
            if (spans[i].start < life->start || spans[i].end > life->end)
                spans[i].clipped = true;
            if (spans[i].start < life->start)
                spans[i].start = life->start;
            if (spans[i].end > life->end)
                spans[i].end = life->end;
        }
    }
}

/*
 * Sorts spans parents first and cuts each one that ends after the innermost
 * span it starts in, so that every thread's spans nest.
 */
static void make_nested(struct tl_vec *spans)
{
    struct span *s = spans->data;
    size_t *stack = tl_xcalloc(spans->len + 1, sizeof(*stack)), depth = 0;

    if (spans->len) { /* sort by tid to clamp, then again: clamping moves starts */
        qsort(s, spans->len, sizeof(*s), span_order);
        clamp_to_thread(s, spans->len);
        qsort(s, spans->len, sizeof(*s), span_order);
    }
    for (size_t i = 0; i < spans->len; i++) {
        while (depth && (s[stack[depth - 1]].tid != s[i].tid ||
                         s[stack[depth - 1]].end <= s[i].start))
            depth--;
        if (depth && s[i].end > s[stack[depth - 1]].end) {
            s[i].end = s[stack[depth - 1]].end;
            s[i].clipped = true;
        }
        stack[depth++] = i;
    }
    free(stack);
}

/* ---- writing ----------------------------------------------------------- */

static void key_str(struct tl_json *j, const char *key, const char *s)
{
    tl_json_key(j, key);
    tl_json_string(j, s);
}

static void key_int(struct tl_json *j, const char *key, int64_t v)
{
    tl_json_key(j, key);
    tl_json_int(j, v);
}

/* Opens an event object with its name, phase, pid and tid. */
static void event_begin(struct trace *t, const char *name, const char *ph, int64_t pid,
                        int64_t tid)
{
    tl_json_begin_object(&t->j, true);
    key_str(&t->j, "name", name);
    key_str(&t->j, "ph", ph);
    key_int(&t->j, "pid", pid);
    key_int(&t->j, "tid", tid);
}

static void key_ts(struct trace *t, const char *key, int64_t ns)
{
    tl_json_key(&t->j, key);
    tl_json_thousandths(&t->j, ns);
}

static void put_metadata(struct trace *t, const struct proc *p)
{
    char name[4200];
    const char *exe = p->exe ? strrchr(p->exe, '/') : NULL;

    snprintf(name, sizeof(name), "%s (pid %" PRId64 ")",
             exe ? exe + 1 : p->exe ? p->exe : "process", p->pid);
    event_begin(t, "process_name", "M", p->pid, p->pid);
    tl_json_key(&t->j, "args");
    tl_json_begin_object(&t->j, true);
    key_str(&t->j, "name", name);
    tl_json_end_object(&t->j);
    tl_json_end_object(&t->j);
    for (size_t i = 0; i < t->spans.len; i++) {
        const struct span *s = tl_vec_at(&t->spans, i);

        if (s->kind != SPAN_THREAD)
            continue;
        event_begin(t, "thread_name", "M", s->pid, s->tid);
        tl_json_key(&t->j, "args");
        tl_json_begin_object(&t->j, true);
        key_str(&t->j, "name", s->name);
        tl_json_end_object(&t->j);
        tl_json_end_object(&t->j);
    }
}

static const char *const span_cat[] = {"thread", "task", "wait"};

static void put_span(struct trace *t, const struct span *s)
{
    event_begin(t, s->name, "X", s->pid, s->tid);
    key_str(&t->j, "cat", span_cat[s->kind]);
    key_ts(t, "ts", s->start - t->t0);
    key_ts(t, "dur", s->end - s->start);
    tl_json_key(&t->j, "args");
    tl_json_begin_object(&t->j, true);
    key_int(&t->j, s->kind == SPAN_TASK ? "task" : "thread", s->id);
    if (s->kind == SPAN_TASK)
        key_int(&t->j, "queue_wait_ns", s->extra);
    if (s->kind == SPAN_WAIT && s->extra)
        key_int(&t->j, "lock", s->extra);
    tl_json_key(&t->j, "open");
    tl_json_bool(&t->j, s->open);
    if (s->clipped) {
        tl_json_key(&t->j, "clipped");
        tl_json_bool(&t->j, true);
    }
    tl_json_end_object(&t->j);
    tl_json_end_object(&t->j);
}

/* Async begin/end pair ("b"/"e") for the time a task waited in its queue. */
static int put_queue_waits(struct trace *t, const struct proc *p)
{
    sqlite3_stmt *st = tl_db_prepare(
        t->db, "SELECT k.id, k.queued_ns, coalesce(k.started_ns, k.ended_ns, ?2), h.tid, h.id"
               " FROM task k LEFT JOIN thread h ON h.proc = k.proc AND h.id = k.submit_thread"
               " WHERE k.proc = ?1 AND k.queued_ns IS NOT NULL ORDER BY k.id");
    int rc;

    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, p->id);
    sqlite3_bind_int64(st, 2, p->end);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char id[64];
        int64_t queued = col(st, 1, 0), started = col(st, 2, 0);
        int64_t tid = tid_of(st, 3, 4);

        snprintf(id, sizeof(id), "%" PRId64 ".%" PRId64, p->id,
                 (int64_t)sqlite3_column_int64(st, 0));
        for (int end = 0; end < 2; end++) {
            event_begin(t, "queued", end ? "e" : "b", p->pid, tid);
            key_str(&t->j, "cat", "task");
            key_str(&t->j, "id", id);
            key_ts(t, "ts", (end ? (started > queued ? started : queued) : queued) - t->t0);
            tl_json_end_object(&t->j);
        }
    }
    return done(t, st, rc);
}

/* Findings as process-wide instant events. */
static int put_findings(struct trace *t, const struct proc *p)
{
    sqlite3_stmt *st = tl_db_prepare(
        t->db, "SELECT kind, severity, summary, coalesce(t_ns, ?2), suppressed FROM finding"
               " WHERE proc = ?1 ORDER BY id");
    int rc;

    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, p->id);
    sqlite3_bind_int64(st, 2, p->end);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        event_begin(t, text(st, 0) ? text(st, 0) : "finding", "i", p->pid, p->pid);
        key_str(&t->j, "cat", "finding");
        key_str(&t->j, "s", "p");
        key_ts(t, "ts", col(st, 3, 0) - t->t0);
        tl_json_key(&t->j, "args");
        tl_json_begin_object(&t->j, true);
        key_str(&t->j, "severity", text(st, 1));
        key_str(&t->j, "summary", text(st, 2));
        key_int(&t->j, "suppressed", sqlite3_column_int64(st, 4));
        tl_json_end_object(&t->j);
        tl_json_end_object(&t->j);
    }
    return done(t, st, rc);
}

static const char *const counters[] = {
    "threads_live", "heap_live_bytes", "rss_bytes", "tasks_in_flight", "contentions",
};

/* One "C" event per counter and sample; NULL values are left out. */
static int put_counters(struct trace *t, const struct proc *p)
{
    sqlite3_stmt *st = tl_db_prepare(
        t->db, "SELECT t_ns, threads_live, heap_live_bytes, rss_bytes, tasks_in_flight,"
               " contentions FROM sample WHERE proc = ?1 ORDER BY t_ns");
    int rc;

    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, p->id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; c < 5; c++) {
            if (sqlite3_column_type(st, c + 1) == SQLITE_NULL)
                continue;
            event_begin(t, counters[c], "C", p->pid, p->pid);
            key_ts(t, "ts", col(st, 0, 0) - t->t0);
            tl_json_key(&t->j, "args");
            tl_json_begin_object(&t->j, true);
            key_int(&t->j, counters[c], sqlite3_column_int64(st, c + 1));
            tl_json_end_object(&t->j);
            tl_json_end_object(&t->j);
        }
    }
    return done(t, st, rc);
}

static void free_spans(struct tl_vec *spans)
{
    for (size_t i = 0; i < spans->len; i++)
        free(((struct span *)tl_vec_at(spans, i))->name);
    spans->len = 0;
}

/* Reads and writes everything of one process. Returns 0 or -EIO. */
static int put_process(struct trace *t, const struct proc *p)
{
    int rc = read_threads(t, p);

    if (rc == 0)
        rc = read_tasks(t, p);
    if (rc == 0)
        rc = read_waits(t, p);
    if (rc == 0) {
        make_nested(&t->spans);
        put_metadata(t, p);
        for (size_t i = 0; i < t->spans.len; i++)
            put_span(t, tl_vec_at(&t->spans, i));
        rc = put_queue_waits(t, p);
    }
    if (rc == 0)
        rc = put_findings(t, p);
    if (rc == 0)
        rc = put_counters(t, p);
    free_spans(&t->spans);
    return rc;
}

static int put_document(struct trace *t)
{
    int rc = 0;

    tl_json_begin_object(&t->j, false);
    tl_json_key(&t->j, "traceEvents");
    tl_json_begin_array(&t->j, false);
    for (size_t i = 0; rc == 0 && i < t->procs.len; i++)
        rc = put_process(t, tl_vec_at(&t->procs, i));
    tl_json_end_array(&t->j);
    key_str(&t->j, "displayTimeUnit", "ns");
    tl_json_key(&t->j, "otherData");
    tl_json_begin_object(&t->j, true);
    key_str(&t->j, "producer", "threadlens-top --trace");
    key_int(&t->j, "t0_ns", t->procs.len ? t->t0 : 0);
    key_int(&t->j, "min_wait_ns", TL_TRACE_MIN_WAIT_NS);
    tl_json_end_object(&t->j);
    tl_json_end_object(&t->j);
    tl_json_finish(&t->j);
    return rc;
}

/*
 * Writes the trace of every process (pid < 0) or of the processes with that
 * pid to out. Returns 0, or a negative errno with a one-line message in err:
 * -ENOENT no such pid, -EIO a database error (out then holds a partial
 * document: the caller reports the error and its output is not to be used).
 */
int tl_export_trace(struct tl_db *db, int64_t pid, FILE *out, char *err, size_t errlen)
{
    struct trace t = {.db = db};
    int rc;

    tl_vec_init(&t.procs, sizeof(struct proc));
    tl_vec_init(&t.spans, sizeof(struct span));
    tl_json_init(&t.j, out);
    rc = tl_db_begin(db);
    if (rc == 0) {
        rc = read_processes(&t, pid);
        if (rc == 0 && pid >= 0 && t.procs.len == 0) {
            snprintf(err, errlen, "no process with pid %" PRId64 " in the database", pid);
            rc = -ENOENT;
        } else if (rc == 0) {
            rc = put_document(&t);
        }
        tl_db_end(db);
    }
    if (rc != 0 && rc != -ENOENT)
        snprintf(err, errlen, "%s", tl_db_error(db));
    for (size_t i = 0; i < t.procs.len; i++)
        free(((struct proc *)tl_vec_at(&t.procs, i))->exe);
    tl_vec_free(&t.procs);
    tl_vec_free(&t.spans);
    return rc;
}
