/*
 * model.c - read the views' data (model.h). Sections: helpers, processes and
 * samples, threads, locks, thread states, allocation sites, thread states from findings,
 * cycle chains, on-demand stacks and edges, load and free.
 *
 * Every query is a plain SELECT; the first reads of a refresh share one read
 * transaction and are finalized before it ends, so nothing is held between
 * refreshes and a WAL checkpoint of the agent is never held back for long.
 */
#include "model.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schema.h"
#include "xalloc.h"

/* ---- helpers ---------------------------------------------------------- */

static int64_t col_int(sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return TL_NULL;
    return sqlite3_column_int64(st, col);
}

static char *col_str(sqlite3_stmt *st, int col)
{
    return tl_xstrdup((const char *)sqlite3_column_text(st, col));
}

static bool is(const char *s, const char *want)
{
    return s && strcmp(s, want) == 0;
}

/* Steps st. Returns 1 for a row, 0 when done, -EIO (message in db) on error. */
static int step(struct tl_db *db, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);

    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return tl_db_fail(db);
}

/* Appends (t_ns, v) to s, dropping the oldest value when full. */
static void series_push(struct tl_series *s, int64_t t_ns, int64_t base_ns, double v)
{
    if (s->n == TL_MODEL_HISTORY) {
        memmove(s->v, s->v + 1, (TL_MODEL_HISTORY - 1) * sizeof(s->v[0]));
        memmove(s->t, s->t + 1, (TL_MODEL_HISTORY - 1) * sizeof(s->t[0]));
        s->n--;
    }
    s->v[s->n] = v;
    s->t[s->n] = (double)(t_ns - base_ns) / 1e9;
    s->n++;
}

/*
 * Returns the least-squares slope of s in units per second, 0 with fewer than
 * two points or when every point has the same time. Can't fail.
 */
double tl_model_slope(const struct tl_series *s)
{
    double mt = 0, mv = 0, num = 0, den = 0;

    if (s->n < 2)
        return 0;
    for (size_t i = 0; i < s->n; i++) {
        mt += s->t[i];
        mv += s->v[i];
    }
    mt /= (double)s->n;
    mv /= (double)s->n;
    for (size_t i = 0; i < s->n; i++) {
        num += (s->t[i] - mt) * (s->v[i] - mv);
        den += (s->t[i] - mt) * (s->t[i] - mt);
    }
    return den > 0 ? num / den : 0;
}

/* ---- processes and samples -------------------------------------------- */

static int load_procs(struct tl_db *db, struct tl_model *m)
{
    sqlite3_stmt *st = tl_db_prepare(db, "SELECT id, pid, exe, start_ns, end_ns, exit_status,"
                                         " end_reason, (SELECT max(t_ns) FROM sample s"
                                         " WHERE s.proc = process.id)"
                                         " FROM process ORDER BY id");
    int rc;

    if (!st)
        return -EIO;
    while ((rc = step(db, st)) == 1) {
        struct tl_mproc *p = tl_vec_push(&m->procs);

        p->id = col_int(st, 0);
        p->pid = col_int(st, 1);
        p->exe = col_str(st, 2);
        p->start_ns = col_int(st, 3);
        p->end_ns = col_int(st, 4);
        p->exit_status = col_int(st, 5);
        p->end_reason = col_str(st, 6);
        p->last_sample_ns = col_int(st, 7);
    }
    sqlite3_finalize(st);
    return rc;
}

/* The process the overview counts: the first one still running, else the first. */
static int64_t overview_proc(const struct tl_model *m)
{
    for (size_t i = 0; i < m->procs.len; i++) {
        const struct tl_mproc *p = tl_vec_at(&m->procs, i);

        if (p->end_ns == TL_NULL)
            return p->id;
    }
    return m->procs.len ? ((const struct tl_mproc *)tl_vec_at(&m->procs, 0))->id : TL_NULL;
}

static double as_double(int64_t v)
{
    return v == TL_NULL ? 0 : (double)v;
}

/* v, or 0 for NULL; exact, unlike as_double() past 2^53. */
static int64_t or_zero(int64_t v)
{
    return v == TL_NULL ? 0 : v;
}

/* Per-second rate of a cumulative counter between two samples; -1 when unknown. */
static double rate(int64_t a, int64_t b, int64_t ta, int64_t tb)
{
    if (a == TL_NULL || b == TL_NULL || tb <= ta)
        return -1;
    return (double)(b - a) * 1e9 / (double)(tb - ta);
}

/*
 * Reads the last TL_MODEL_HISTORY + 1 samples of the overview's process (one
 * more than kept, so the oldest kept one has a rate too), oldest first.
 */
static int load_samples(struct tl_db *db, struct tl_model *m)
{
    struct tl_overview *o = &m->ov;
    sqlite3_stmt *st;
    int64_t prev_t = TL_NULL, prev_acq = TL_NULL, prev_cont = TL_NULL, base = TL_NULL;
    int64_t busy_ns = 0;
    int rc;

    o->proc = overview_proc(m);
    o->t_ns = o->threads_live = o->threads_total = o->tasks_in_flight = TL_NULL;
    o->heap_live = o->rss = o->agent_bytes = TL_NULL;
    o->acq_rate = o->cont_rate = o->collector_share = -1;
    o->collector_max_ns = TL_NULL;
    if (o->proc == TL_NULL)
        return 0;
    st = tl_db_prepare(db, "SELECT * FROM (SELECT t_ns, threads_live, threads_total,"
                           " tasks_in_flight, heap_live_bytes, rss_bytes, acquisitions,"
                           " contentions, tick_ns, agent_bytes FROM sample WHERE proc = ?1"
                           " ORDER BY t_ns DESC LIMIT ?2) ORDER BY t_ns");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, o->proc);
    sqlite3_bind_int(st, 2, TL_MODEL_HISTORY + 1);
    while ((rc = step(db, st)) == 1) {
        int64_t t = col_int(st, 0), acq = col_int(st, 6), cont = col_int(st, 7);
        int64_t tick = col_int(st, 8);

        if (base == TL_NULL)
            base = t;
        o->t_ns = t;
        o->threads_live = col_int(st, 1);
        o->threads_total = col_int(st, 2);
        o->tasks_in_flight = col_int(st, 3);
        o->heap_live = col_int(st, 4);
        o->rss = col_int(st, 5);
        series_push(&o->threads, t, base, as_double(o->threads_live));
        series_push(&o->tasks, t, base, as_double(o->tasks_in_flight));
        series_push(&o->heap, t, base, as_double(o->heap_live));
        series_push(&o->rss_hist, t, base, as_double(o->rss));
        o->agent_bytes = col_int(st, 9);
        series_push(&o->ticks, t, base, as_double(tick));
        series_push(&o->agent_mem, t, base, as_double(o->agent_bytes));
        if (tick != TL_NULL && (o->collector_max_ns == TL_NULL || tick > o->collector_max_ns))
            o->collector_max_ns = tick;
        if (prev_t != TL_NULL) {
            o->acq_rate = rate(prev_acq, acq, prev_t, t);
            o->cont_rate = rate(prev_cont, cont, prev_t, t);
            series_push(&o->acq, t, base, o->acq_rate < 0 ? 0 : o->acq_rate);
            series_push(&o->cont, t, base, o->cont_rate < 0 ? 0 : o->cont_rate);
            /* A sample's tick_ns is the collector's time since the sample before it. */
            busy_ns += or_zero(tick);
        }
        prev_t = t;
        prev_acq = acq;
        prev_cont = cont;
    }
    sqlite3_finalize(st);
    if (prev_t != TL_NULL && prev_t > base) /* two samples or more: base is the first */
        o->collector_share = (double)busy_ns / (double)(prev_t - base);
    return rc;
}

/* ---- threads, locks, sites -------------------------------------------- */

static int load_threads(struct tl_db *db, struct tl_model *m)
{
    sqlite3_stmt *st = tl_db_prepare(db, "SELECT t.proc, p.pid, t.id, t.tid, t.name, t.creator,"
                                         " t.create_stack, t.start_ns, t.end_ns, t.end_how"
                                         " FROM thread t LEFT JOIN process p ON p.id = t.proc"
                                         " ORDER BY t.proc, t.id");
    int rc;

    if (!st)
        return -EIO;
    while ((rc = step(db, st)) == 1) {
        struct tl_mthread *t = tl_vec_push(&m->threads);
        const struct tl_mproc *p;

        memset(t, 0, sizeof(*t));
        tl_vec_init(&t->held, sizeof(struct tl_mheld));
        t->proc = col_int(st, 0);
        t->pid = col_int(st, 1);
        t->id = col_int(st, 2);
        t->tid = col_int(st, 3);
        t->name = col_str(st, 4);
        t->creator = col_int(st, 5);
        t->create_stack = col_int(st, 6);
        t->start_ns = col_int(st, 7);
        t->end_ns = col_int(st, 8);
        t->end_how = col_str(st, 9);
        p = tl_model_proc(m, t->proc);
        /* the main thread ends with its process, which records no thread end */
        if (t->end_ns != TL_NULL || (t->id == 1 && p && p->end_ns != TL_NULL))
            t->state = TL_TS_EXITED;
        else if (p && p->end_ns != TL_NULL)
            t->state = TL_TS_ALIVE_EXIT;
        else
            t->state = TL_TS_RUNNING;
    }
    sqlite3_finalize(st);
    return rc;
}

/* "lock_a", "0x7f0012345678" or "#3": how a lock is called everywhere. */
static char *lock_label(const char *name, int64_t addr, int64_t id)
{
    char buf[64];

    if (name)
        return tl_xstrdup(name);
    if (addr != TL_NULL)
        snprintf(buf, sizeof(buf), "0x%" PRIx64, (uint64_t)addr);
    else
        snprintf(buf, sizeof(buf), "#%" PRId64, id);
    return tl_xstrdup(buf);
}

static int load_locks(struct tl_db *db, struct tl_model *m)
{
    sqlite3_stmt *st = tl_db_prepare(
        db, "SELECT l.proc, p.pid, l.id, l.addr, l.kind, l.name, l.first_stack,"
            " l.first_thread, l.acquisitions, l.contentions,"
            " (SELECT function FROM frame f WHERE f.stack = l.first_stack"
            "  AND f.function IS NOT NULL AND f.function NOT LIKE 'pthread_%'"
            "  AND f.function NOT LIKE 'mtx_%' AND f.function NOT LIKE 'tl_%'"
            "  ORDER BY f.idx LIMIT 1),"
            " (SELECT count(*) FROM lock_edge e WHERE e.proc = l.proc"
            "  AND (e.from_lock = l.id OR e.to_lock = l.id)),"
            " l.wait_ns, l.wait_max_ns"
            " FROM lock l LEFT JOIN process p ON p.id = l.proc ORDER BY l.proc, l.id");
    int rc;

    if (!st)
        return -EIO;
    while ((rc = step(db, st)) == 1) {
        struct tl_mlock *k = tl_vec_push(&m->locks);

        k->proc = col_int(st, 0);
        k->pid = col_int(st, 1);
        k->id = col_int(st, 2);
        k->addr = col_int(st, 3);
        k->kind = col_str(st, 4);
        k->name = col_str(st, 5);
        k->label = lock_label(k->name, k->addr, k->id);
        k->first_stack = col_int(st, 6);
        k->first_thread = col_int(st, 7);
        k->acquisitions = (int64_t)as_double(col_int(st, 8));
        k->contentions = (int64_t)as_double(col_int(st, 9));
        k->first_function = col_str(st, 10);
        k->edges = col_int(st, 11);
        k->wait_ns = or_zero(col_int(st, 12));
        k->wait_max_ns = or_zero(col_int(st, 13));
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---- thread states -------------------------------------------------- */

static struct tl_mthread *find_thread(struct tl_model *m, int64_t proc, int64_t id);

static const struct tl_mlock *find_lock(const struct tl_model *m, int64_t proc, int64_t id)
{
    for (size_t i = 0; i < m->locks.len; i++) {
        const struct tl_mlock *k = tl_vec_at(&m->locks, i);

        if (k->proc == proc && k->id == id)
            return k;
    }
    return NULL;
}

/* The function of the first frame of stack, or NULL; fn is a prepared query. */
static char *stack_function(sqlite3_stmt *fn, int64_t stack)
{
    char *s = NULL;

    if (stack == TL_NULL)
        return NULL;
    sqlite3_reset(fn);
    sqlite3_bind_int64(fn, 1, stack);
    if (sqlite3_step(fn) == SQLITE_ROW)
        s = col_str(fn, 0);
    sqlite3_reset(fn);
    return s;
}

/* Parses thread_state.held, "LOCK@STACK,LOCK@STACK", into t->held; skips junk. */
static void parse_held(const struct tl_model *m, struct tl_mthread *t, const char *held,
                       sqlite3_stmt *fn)
{
    const char *p = held;

    while (p && *p) {
        char *end;
        long long lock = strtoll(p, &end, 10), stack = -1;
        bool ok = end != p;

        p = end;
        if (ok && *p == '@') {
            stack = strtoll(p + 1, &end, 10);
            ok = end != p + 1;
            p = end;
        }
        if (ok) {
            const struct tl_mlock *k = find_lock(m, t->proc, lock);
            struct tl_mheld *h = tl_vec_push(&t->held);

            h->lock = lock;
            h->stack = stack < 0 ? TL_NULL : stack;
            h->label = k ? tl_xstrdup(k->label) : lock_label(NULL, TL_NULL, lock);
            h->kind = k && k->kind ? tl_xstrdup(k->kind) : NULL;
            h->function = stack_function(fn, h->stack);
        }
        p = strchr(p, ',');
        if (p)
            p++;
    }
}

static int load_thread_states(struct tl_db *db, struct tl_model *m)
{
    sqlite3_stmt *st = tl_db_prepare(db, "SELECT proc, thread, wait_kind, wait_lock,"
                                         " wait_since_ns, wait_stack, held FROM thread_state"
                                         " ORDER BY proc, thread");
    sqlite3_stmt *fn = tl_db_prepare(db, "SELECT function FROM frame WHERE stack = ?1"
                                         " ORDER BY idx LIMIT 1");
    int rc = -EIO;

    if (st && fn) {
        while ((rc = step(db, st)) == 1) {
            struct tl_mthread *t = find_thread(m, col_int(st, 0), col_int(st, 1));
            const struct tl_mlock *k;

            if (!t || t->has_state)
                continue;
            t->has_state = true;
            t->wait_kind = col_str(st, 2);
            t->wait_lock = col_int(st, 3);
            t->wait_since_ns = col_int(st, 4);
            t->wait_stack = col_int(st, 5);
            if (t->wait_lock != TL_NULL) {
                k = find_lock(m, t->proc, t->wait_lock);
                t->wait_label = k ? tl_xstrdup(k->label) : lock_label(NULL, TL_NULL, t->wait_lock);
            }
            t->wait_function = stack_function(fn, t->wait_stack);
            parse_held(m, t, (const char *)sqlite3_column_text(st, 6), fn);
        }
    }
    sqlite3_finalize(st);
    sqlite3_finalize(fn);
    return rc;
}

/* "1.2s", "350ms", "4m05s", "2h03m": how long a thread has waited. */
static void fmt_since(char *buf, size_t len, int64_t ns)
{
    int64_t s = ns / 1000000000;

    if (ns < 1000000000)
        snprintf(buf, len, "%" PRId64 "ms", ns < 0 ? 0 : ns / 1000000);
    else if (s < 60)
        snprintf(buf, len, "%.1fs", (double)ns / 1e9);
    else if (s < 3600)
        snprintf(buf, len, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
    else
        snprintf(buf, len, "%" PRId64 "h%02" PRId64 "m", s / 3600, s / 60 % 60);
}

/*
 * Writes the Threads view's state of t into buf: from its thread_state row
 * "blocked on mutex lock_b (3.2s)", "blocked in join (1.0s)" or "running";
 * the wait lasts until now_ns while the process runs, else until its last
 * sample. Without a row, or once the thread exited or leaked, the state name
 * (tl_model_state_name). Can't fail.
 */
void tl_model_state_text(char *buf, size_t len, const struct tl_model *m,
                         const struct tl_mthread *t, int64_t now_ns)
{
    const struct tl_mproc *p = tl_model_proc(m, t->proc);
    char dur[40] = "";
    int64_t end;

    if (!t->has_state || t->state == TL_TS_EXITED || t->state == TL_TS_LEAKED ||
        (t->state == TL_TS_ALIVE_EXIT && !t->wait_kind)) {
        snprintf(buf, len, "%s", tl_model_state_name(t->state));
        return;
    }
    if (!t->wait_kind) {
        snprintf(buf, len, "running");
        return;
    }
    end = now_ns;
    if (p && p->end_ns != TL_NULL)
        end = p->last_sample_ns != TL_NULL ? p->last_sample_ns : p->end_ns;
    if (t->wait_since_ns != TL_NULL) {
        char d[32];

        fmt_since(d, sizeof(d), end - t->wait_since_ns);
        snprintf(dur, sizeof(dur), " (%s)", d);
    }
    if (t->wait_label)
        snprintf(buf, len, "blocked on %s %s%s", t->wait_kind, t->wait_label, dur);
    else
        snprintf(buf, len, "blocked in %s%s", t->wait_kind, dur);
}

/*
 * Writes the locks t holds into buf: from its thread_state row the labels
 * "lock_a, lock_b" ("" for none), else what the findings say (t->holds, or
 * ""). Truncated to len. Can't fail.
 */
void tl_model_held_text(char *buf, size_t len, const struct tl_mthread *t)
{
    size_t n = 0;

    if (len == 0)
        return;
    buf[0] = '\0';
    if (!t->has_state) {
        snprintf(buf, len, "%s", t->holds ? t->holds : "");
        return;
    }
    for (size_t i = 0; i < t->held.len && n + 1 < len; i++) {
        const struct tl_mheld *h = tl_vec_at(&t->held, i);
        int w = snprintf(buf + n, len - n, "%s%s", i ? ", " : "", h->label);

        if (w < 0)
            break;
        n += (size_t)w;
    }
}

static struct tl_msite *find_site(struct tl_model *m, int64_t proc, int64_t id)
{
    for (size_t i = 0; i < m->sites.len; i++) {
        struct tl_msite *s = tl_vec_at(&m->sites, i);

        if (s->proc == proc && s->id == id)
            return s;
    }
    return NULL;
}

/* The last TL_MODEL_HISTORY site_sample rows of every site, in one query. */
static int load_site_history(struct tl_db *db, struct tl_model *m)
{
    sqlite3_stmt *st = tl_db_prepare(
        db, "SELECT proc, site, t_ns, live_bytes, live_count FROM (SELECT *, row_number()"
            " OVER (PARTITION BY proc, site ORDER BY t_ns DESC) AS rn FROM site_sample)"
            " WHERE rn <= ?1 ORDER BY proc, site, t_ns");
    struct tl_msite *s = NULL;
    int64_t base = 0;
    int rc;

    if (!st)
        return -EIO;
    sqlite3_bind_int(st, 1, TL_MODEL_HISTORY);
    while ((rc = step(db, st)) == 1) {
        int64_t proc = col_int(st, 0), site = col_int(st, 1), t = col_int(st, 2);

        if (!s || s->proc != proc || s->id != site) {
            s = find_site(m, proc, site);
            base = t;
        }
        if (!s)
            continue;
        s->live_bytes = (int64_t)as_double(col_int(st, 3));
        s->live_count = (int64_t)as_double(col_int(st, 4));
        series_push(&s->hist, t, base, (double)s->live_bytes);
    }
    sqlite3_finalize(st);
    for (size_t i = 0; i < m->sites.len; i++) {
        s = tl_vec_at(&m->sites, i);
        s->growth = tl_model_slope(&s->hist);
    }
    return rc;
}

static int load_sites(struct tl_db *db, struct tl_model *m)
{
    sqlite3_stmt *st = tl_db_prepare(db, "SELECT a.proc, p.pid, a.id, a.stack, a.function"
                                         " FROM alloc_site a LEFT JOIN process p"
                                         " ON p.id = a.proc ORDER BY a.proc, a.id");
    int rc;

    if (!st)
        return -EIO;
    while ((rc = step(db, st)) == 1) {
        struct tl_msite *s = tl_vec_push(&m->sites);

        s->proc = col_int(st, 0);
        s->pid = col_int(st, 1);
        s->id = col_int(st, 2);
        s->stack = col_int(st, 3);
        s->function = col_str(st, 4);
    }
    sqlite3_finalize(st);
    return rc == 0 ? load_site_history(db, m) : rc;
}

/* ---- thread states from findings ------------------------------------- */

static struct tl_mthread *find_thread(struct tl_model *m, int64_t proc, int64_t id)
{
    for (size_t i = 0; i < m->threads.len; i++) {
        struct tl_mthread *t = tl_vec_at(&m->threads, i);

        if (t->proc == proc && t->id == id)
            return t;
    }
    return NULL;
}

/* "mutex lock_b" for lock id of finding f. Returns a malloc'ed string. */
static char *flock_text(const struct tl_finding *f, int64_t id)
{
    const struct tl_flock *k = tl_load_lock(f, id);
    char *label = lock_label(k ? k->name : NULL, k ? k->addr : TL_NULL, id);
    const char *kind = k && k->kind ? k->kind : "lock";
    size_t n = strlen(kind) + strlen(label) + 2;
    char *s = tl_xmalloc(n);

    snprintf(s, n, "%s %s", kind, label);
    free(label);
    return s;
}

/* Sets *dst to src (owned), or appends ", src" when append and *dst is set. */
static void set_text(char **dst, char *src, bool append)
{
    if (append && *dst) {
        size_t n = strlen(*dst) + strlen(src) + 3;
        char *s = tl_xmalloc(n);

        snprintf(s, n, "%s, %s", *dst, src);
        free(*dst);
        free(src);
        *dst = s;
        return;
    }
    free(*dst);
    *dst = src;
}

static bool own_thread_item(const struct tl_fitem *it)
{
    return is(it->role, "thread") && it->thread != TL_NULL && !is(it->detail, "joins");
}

/*
 * Applies one finding to the thread rows. Items of thread-grouped findings
 * come in blocks (README): a thread's own item, then what it waits for and
 * holds, then its stacks. A state only rises (enum order); the waits and
 * holds of a later finding replace an earlier one's.
 */
static void apply_finding(struct tl_model *m, const struct tl_finding *f)
{
    bool leak = is(f->kind, TL_KIND_THREAD_LEAK), dead = is(f->kind, TL_KIND_DEADLOCK);
    bool blocked = is(f->kind, TL_KIND_BLOCKED);
    struct tl_mthread *cur = NULL;
    bool first_hold = true;

    if (!leak && !dead && !blocked)
        return;
    if (!leak && f->resolved_ns != TL_NULL)
        return;
    for (size_t i = 0; i < f->items.len; i++) {
        const struct tl_fitem *it = tl_vec_at(&f->items, i);
        enum tl_tstate st = leak ? TL_TS_LEAKED : dead ? TL_TS_DEADLOCKED : TL_TS_BLOCKED;

        if (own_thread_item(it)) {
            cur = find_thread(m, f->proc, it->thread);
            first_hold = true;
            if (cur && cur->state < st)
                cur->state = st;
            if (cur && !leak && it->detail)
                set_text(&cur->waits, tl_xstrdup(it->detail), false);
            continue;
        }
        if (!cur)
            continue;
        if (is(it->role, "lock") && is(it->detail, "waits") && it->lock != TL_NULL) {
            set_text(&cur->waits, flock_text(f, it->lock), false);
        } else if (is(it->role, "lock") && is(it->detail, "holds") && it->lock != TL_NULL) {
            set_text(&cur->holds, flock_text(f, it->lock), !first_hold);
            first_hold = false;
        } else if (is(it->role, "thread") && is(it->detail, "joins")) {
            char buf[48];

            snprintf(buf, sizeof(buf), "join T%" PRId64, it->thread);
            set_text(&cur->waits, tl_xstrdup(buf), false);
        } else if (is(it->role, "stack") && is(it->detail, "blocked") && it->stack != TL_NULL) {
            cur->blocked = tl_vec_at(&f->stacks, (size_t)it->stack);
        }
    }
}

static const struct tl_run *sort_run; /* qsort context: single-threaded */

static int cmp_newest(const void *a, const void *b)
{
    const struct tl_finding *fa = tl_vec_at(&sort_run->findings, *(const size_t *)a);
    const struct tl_finding *fb = tl_vec_at(&sort_run->findings, *(const size_t *)b);
    int64_t ta = fa->t_ns == TL_NULL ? INT64_MIN : fa->t_ns;
    int64_t tb = fb->t_ns == TL_NULL ? INT64_MIN : fb->t_ns;

    if (ta != tb)
        return ta < tb ? 1 : -1;
    return fa->id < fb->id ? 1 : fa->id > fb->id ? -1 : 0;
}

static void index_findings(struct tl_model *m)
{
    size_t n = m->run.findings.len;

    for (size_t i = 0; i < n; i++)
        *(size_t *)tl_vec_push(&m->newest) = i;
    sort_run = &m->run;
    if (n > 1)
        qsort(m->newest.data, n, sizeof(size_t), cmp_newest);
    /* oldest first, so later findings overwrite earlier ones */
    for (size_t i = n; i-- > 0;)
        apply_finding(m, tl_model_newest(m, i));
}

/* ---- cycle chains ----------------------------------------------------- */

struct link {
    int64_t thread;     /* thread.id, or TL_NULL */
    int64_t holds;      /* lock.id, or TL_NULL */
    int64_t wants;      /* lock.id, or TL_NULL */
    int64_t joins;      /* thread.id it waits to join, or TL_NULL */
};

static void put_label(FILE *out, const struct tl_finding *f, int64_t id)
{
    const struct tl_flock *k = tl_load_lock(f, id);
    char *label = lock_label(k ? k->name : NULL, k ? k->addr : TL_NULL, id);

    fputs(label, out);
    free(label);
}

static void put_thread_ref(FILE *out, int64_t thread)
{
    if (thread == TL_NULL)
        fputs("a thread", out);
    else
        fprintf(out, "T%" PRId64, thread);
}

/* Fills links from the finding's edges, or from its deadlock blocks. */
static void collect_links(const struct tl_finding *f, struct tl_vec *links)
{
    struct link *cur = NULL;

    for (size_t i = 0; i < f->edges.len; i++) {
        const struct tl_fedge *e = tl_vec_at(&f->edges, i);
        struct link *l = tl_vec_push(links);

        *l = (struct link){e->thread, e->from, e->to, TL_NULL};
    }
    if (links->len)
        return;
    for (size_t i = 0; i < f->items.len; i++) {
        const struct tl_fitem *it = tl_vec_at(&f->items, i);

        if (own_thread_item(it)) {
            cur = tl_vec_push(links);
            *cur = (struct link){it->thread, TL_NULL, TL_NULL, TL_NULL};
        } else if (cur && is(it->role, "lock") && is(it->detail, "waits")) {
            cur->wants = it->lock;
        } else if (cur && is(it->role, "lock") && is(it->detail, "holds") &&
                   cur->holds == TL_NULL) {
            cur->holds = it->lock;
        } else if (cur && is(it->role, "thread") && is(it->detail, "joins")) {
            cur->joins = it->thread;
        }
    }
}

static void put_wants(FILE *out, const struct tl_finding *f, const struct link *l)
{
    if (l->wants != TL_NULL) {
        fputs(" -> wants ", out);
        put_label(out, f, l->wants);
    } else if (l->joins != TL_NULL) {
        fprintf(out, " -> joins T%" PRId64, l->joins);
    }
}

/*
 * Returns the cycle of a lock-order-inversion or deadlock finding as one line,
 * "T1 holds A -> wants B -> held by T2 -> wants A", following each wanted
 * lock to the thread that holds it. Returns NULL when the finding has no
 * edges nor thread blocks. The caller frees the string.
 */
char *tl_model_chain(const struct tl_finding *f)
{
    struct tl_vec links;
    char *text = NULL;
    size_t len = 0;
    FILE *out;

    tl_vec_init(&links, sizeof(struct link));
    collect_links(f, &links);
    if (links.len == 0) {
        tl_vec_free(&links);
        return NULL;
    }
    out = open_memstream(&text, &len);
    if (!out)
        abort();
    {
        const struct link *first = tl_vec_at(&links, 0), *cur = first;
        bool *seen = tl_xcalloc(links.len, sizeof(bool));

        seen[0] = true;
        put_thread_ref(out, first->thread);
        if (first->holds != TL_NULL) {
            fputs(" holds ", out);
            put_label(out, f, first->holds);
        }
        put_wants(out, f, first);
        for (size_t n = 1; n < links.len && cur->wants != TL_NULL; n++) {
            const struct link *next = NULL;
            size_t j;

            if (cur->wants == first->holds)
                break;
            for (j = 0; j < links.len && !next; j++) {
                const struct link *l = tl_vec_at(&links, j);

                if (!seen[j] && l->holds == cur->wants)
                    next = l, seen[j] = true;
            }
            if (!next)
                break;
            fputs(" -> held by ", out);
            put_thread_ref(out, next->thread);
            put_wants(out, f, next);
            cur = next;
        }
        free(seen);
    }
    fclose(out);
    tl_vec_free(&links);
    return text;
}

/* ---- on demand: stacks and edges -------------------------------------- */

/*
 * Reads the frames of stack `stack` (struct tl_frame, innermost first) into
 * frames, which the caller initialised; free with tl_model_frames_free().
 * Returns 0 (no frames for TL_NULL or an unknown stack) or -EIO.
 */
int tl_model_frames(struct tl_db *db, int64_t stack, struct tl_vec *frames)
{
    sqlite3_stmt *st;
    int rc;

    if (stack == TL_NULL)
        return 0;
    if ((rc = tl_db_begin(db)) != 0)
        return rc;
    st = tl_db_prepare(db, "SELECT module, offset, function FROM frame WHERE stack = ?1"
                           " ORDER BY idx");
    rc = st ? 0 : -EIO;
    if (st) {
        sqlite3_bind_int64(st, 1, stack);
        while ((rc = step(db, st)) == 1) {
            struct tl_frame *fr = tl_vec_push(frames);

            fr->module = col_str(st, 0);
            fr->offset = col_int(st, 1);
            fr->function = col_str(st, 2);
        }
        sqlite3_finalize(st);
    }
    if (tl_db_end(db) != 0 && rc == 0)
        rc = -EIO;
    return rc;
}

void tl_model_frames_free(struct tl_vec *frames)
{
    for (size_t i = 0; i < frames->len; i++) {
        struct tl_frame *fr = tl_vec_at(frames, i);

        free(fr->module);
        free(fr->function);
    }
    tl_vec_free(frames);
}

/*
 * Reads the lock_edge rows of process proc that start or end at lock `lock`
 * (struct tl_medge, by id) into edges, which the caller initialised; free
 * with tl_model_edges_free(). Returns 0 or -EIO.
 */
int tl_model_edges(struct tl_db *db, int64_t proc, int64_t lock, struct tl_vec *edges)
{
    sqlite3_stmt *st;
    int rc;

    if ((rc = tl_db_begin(db)) != 0)
        return rc;
    st = tl_db_prepare(db, "SELECT e.id, a.name, a.addr, e.from_lock, b.name, b.addr, e.to_lock,"
                           " e.thread, e.threads, e.modes, e.held_stack, e.acquire_stack"
                           " FROM lock_edge e"
                           " LEFT JOIN lock a ON a.proc = e.proc AND a.id = e.from_lock"
                           " LEFT JOIN lock b ON b.proc = e.proc AND b.id = e.to_lock"
                           " WHERE e.proc = ?1 AND (e.from_lock = ?2 OR e.to_lock = ?2)"
                           " ORDER BY e.id");
    rc = st ? 0 : -EIO;
    if (st) {
        sqlite3_bind_int64(st, 1, proc);
        sqlite3_bind_int64(st, 2, lock);
        while ((rc = step(db, st)) == 1) {
            struct tl_medge *e = tl_vec_push(edges);

            e->id = col_int(st, 0);
            e->from = lock_label((const char *)sqlite3_column_text(st, 1), col_int(st, 2),
                                 col_int(st, 3));
            e->to = lock_label((const char *)sqlite3_column_text(st, 4), col_int(st, 5),
                               col_int(st, 6));
            e->thread = col_int(st, 7);
            e->threads = col_int(st, 8);
            e->modes = col_str(st, 9);
            e->held_stack = col_int(st, 10);
            e->acquire_stack = col_int(st, 11);
        }
        sqlite3_finalize(st);
    }
    if (tl_db_end(db) != 0 && rc == 0)
        rc = -EIO;
    return rc;
}

void tl_model_edges_free(struct tl_vec *edges)
{
    for (size_t i = 0; i < edges->len; i++) {
        struct tl_medge *e = tl_vec_at(edges, i);

        free(e->from);
        free(e->to);
        free(e->modes);
    }
    tl_vec_free(edges);
}

/* ---- load and free ---------------------------------------------------- */

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void model_init(struct tl_model *m)
{
    memset(m, 0, sizeof(*m));
    tl_vec_init(&m->procs, sizeof(struct tl_mproc));
    tl_vec_init(&m->threads, sizeof(struct tl_mthread));
    tl_vec_init(&m->locks, sizeof(struct tl_mlock));
    tl_vec_init(&m->sites, sizeof(struct tl_msite));
    tl_vec_init(&m->newest, sizeof(size_t));
    tl_vec_init(&m->run.processes, sizeof(struct tl_process));
    tl_vec_init(&m->run.findings, sizeof(struct tl_finding));
}

/*
 * Reads everything the views show into m. Returns 0, or -EIO with the message
 * in tl_db_error(db) and m left empty. The caller frees m with
 * tl_model_free() in both cases.
 */
int tl_model_load(struct tl_db *db, struct tl_model *m)
{
    int rc;

    model_init(m);
    m->loaded_ns = now_ns();
    if ((rc = tl_db_begin(db)) != 0)
        return rc;
    rc = load_procs(db, m);
    if (rc == 0)
        rc = load_samples(db, m);
    if (rc == 0)
        rc = load_threads(db, m);
    if (rc == 0)
        rc = load_locks(db, m);
    if (rc == 0)
        rc = load_thread_states(db, m);
    if (rc == 0)
        rc = load_sites(db, m);
    if (tl_db_end(db) != 0 && rc == 0)
        rc = -EIO;
    if (rc == 0)
        rc = tl_load_run(db, &m->run);
    if (rc == 0)
        index_findings(m);
    if (rc != 0) {
        tl_model_free(m);
        model_init(m);
    }
    return rc;
}

/* Frees everything m holds. Can't fail. */
void tl_model_free(struct tl_model *m)
{
    for (size_t i = 0; i < m->procs.len; i++) {
        struct tl_mproc *p = tl_vec_at(&m->procs, i);

        free(p->exe);
        free(p->end_reason);
    }
    for (size_t i = 0; i < m->threads.len; i++) {
        struct tl_mthread *t = tl_vec_at(&m->threads, i);

        free(t->name);
        free(t->end_how);
        free(t->waits);
        free(t->holds);
        free(t->wait_kind);
        free(t->wait_label);
        free(t->wait_function);
        for (size_t j = 0; j < t->held.len; j++) {
            struct tl_mheld *h = tl_vec_at(&t->held, j);

            free(h->label);
            free(h->kind);
            free(h->function);
        }
        tl_vec_free(&t->held);
    }
    for (size_t i = 0; i < m->locks.len; i++) {
        struct tl_mlock *k = tl_vec_at(&m->locks, i);

        free(k->kind);
        free(k->name);
        free(k->label);
        free(k->first_function);
    }
    for (size_t i = 0; i < m->sites.len; i++)
        free(((struct tl_msite *)tl_vec_at(&m->sites, i))->function);
    tl_vec_free(&m->procs);
    tl_vec_free(&m->threads);
    tl_vec_free(&m->locks);
    tl_vec_free(&m->sites);
    tl_vec_free(&m->newest);
    tl_load_free(&m->run);
}

/* Returns the process with process.id id, or NULL. */
const struct tl_mproc *tl_model_proc(const struct tl_model *m, int64_t id)
{
    for (size_t i = 0; i < m->procs.len; i++) {
        const struct tl_mproc *p = tl_vec_at(&m->procs, i);

        if (p->id == id)
            return p;
    }
    return NULL;
}

/* Returns the i-th newest finding; i < m->newest.len. */
const struct tl_finding *tl_model_newest(const struct tl_model *m, size_t i)
{
    return tl_vec_at(&m->run.findings, *(const size_t *)tl_vec_at(&m->newest, i));
}

const char *tl_model_state_name(enum tl_tstate s)
{
    switch (s) {
    case TL_TS_RUNNING: return "running";
    case TL_TS_EXITED: return "exited";
    case TL_TS_ALIVE_EXIT: return "alive at exit";
    case TL_TS_BLOCKED: return "blocked";
    case TL_TS_LEAKED: return "leaked";
    case TL_TS_DEADLOCKED: return "deadlocked";
    }
    return "?";
}
