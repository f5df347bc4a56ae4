/*
 * load.c - read a run from the database into the structs of load.h. One read
 * transaction covers the whole load; the statements are prepared once per
 * load and reset between uses.
 *
 * Items are read in seq order and each thread or lock they mention is added
 * to the finding the first time it is seen, so "first-reference order" holds:
 * an edge item adds its thread, then its from and to locks (cycle order), then
 * its held and acquired stacks. References to rows that do not exist (a NULL
 * stack, an edge id with no lock_edge row) are skipped rather than invented;
 * the raw item then says so with a NULL edge or stack index.
 *
 * A thread's detail comes from its first own `thread` item. A `joins` item
 * names the thread being joined, but describes the joiner's wait, so it does
 * not count for the thread it names.
 */
#include "load.h"

#include "suppress.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "xalloc.h"

enum query { Q_PROCS, Q_FINDINGS, Q_ITEMS, Q_EDGE, Q_THREAD, Q_LOCK, Q_FRAMES, Q_COUNT };

static const char *const query_sql[Q_COUNT] = {
    [Q_PROCS] = "SELECT p.pid, p.ppid, p.exe, p.end_ns, p.exit_status, p.end_reason, p.start_ns,"
                " p.attach_ns, coalesce(s.n, 0), coalesce(s.busy, 0), s.longest, s.bytes"
                " FROM process p LEFT JOIN (SELECT proc, count(*) AS n, sum(tick_ns) AS busy,"
                " max(tick_ns) AS longest, max(agent_bytes) AS bytes FROM sample GROUP BY proc)"
                " s ON s.proc = p.id"
                " ORDER BY p.id",
    [Q_FINDINGS] = "SELECT f.id, f.proc, p.pid, f.kind, f.severity, f.summary, f.t_ns,"
                   " f.resolved_ns, f.suppressed"
                   " FROM finding f LEFT JOIN process p ON p.id = f.proc"
                   " ORDER BY CASE f.severity WHEN '" TL_SEV_ERROR "' THEN 0"
                   " WHEN '" TL_SEV_WARNING "' THEN 1 WHEN '" TL_SEV_INFO "' THEN 2"
                   " ELSE 3 END, f.id",
    [Q_ITEMS] = "SELECT role, thread, lock, edge, stack, detail FROM finding_item"
                " WHERE finding = ?1 ORDER BY seq",
    [Q_EDGE] = "SELECT from_lock, to_lock, thread, threads, gate_lock, modes, held_stack,"
               " acquire_stack FROM lock_edge WHERE proc = ?1 AND id = ?2",
    [Q_THREAD] = "SELECT tid, name FROM thread WHERE proc = ?1 AND id = ?2",
    [Q_LOCK] = "SELECT addr, kind, name, coalesce(wait_ns, 0), coalesce(wait_max_ns, 0)"
               " FROM lock WHERE proc = ?1 AND id = ?2",
    [Q_FRAMES] = "SELECT module, offset, function FROM frame WHERE stack = ?1 ORDER BY idx",
};

struct loader {
    struct tl_db *db;            /* connection, inside a read transaction */
    sqlite3_stmt *st[Q_COUNT];   /* prepared query_sql */
};

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

/* Resets query q and binds up to two integers. Returns the statement. */
static sqlite3_stmt *query(struct loader *l, enum query q, int64_t a, int64_t b)
{
    sqlite3_stmt *st = l->st[q];

    sqlite3_reset(st);
    if (sqlite3_bind_parameter_count(st) >= 1)
        sqlite3_bind_int64(st, 1, a);
    if (sqlite3_bind_parameter_count(st) >= 2)
        sqlite3_bind_int64(st, 2, b);
    return st;
}

/* Steps st. Returns 1 for a row, 0 when done, -EIO on error. */
static int step(struct loader *l, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);

    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return tl_db_fail(l->db);
}

/* Adds thread id to f unless it is NULL or already there. */
static void ref_thread(struct tl_finding *f, int64_t id)
{
    struct tl_fthread *t;

    if (id == TL_NULL || tl_load_thread(f, id))
        return;
    t = tl_vec_push(&f->threads);
    t->id = id;
    t->tid = TL_NULL;
}

/* Adds lock id to f unless it is NULL or already there. */
static void ref_lock(struct tl_finding *f, int64_t id)
{
    struct tl_flock *k;

    if (id == TL_NULL || tl_load_lock(f, id))
        return;
    k = tl_vec_push(&f->locks);
    k->id = id;
    k->addr = TL_NULL;
    k->wait_ns = TL_NULL;
    k->wait_max_ns = TL_NULL;
}

/* Returns the index in f->edges of lock_edge id, or TL_NULL. */
static int64_t edge_index(const struct tl_finding *f, int64_t id)
{
    for (size_t i = 0; i < f->edges.len; i++) {
        const struct tl_fedge *e = tl_vec_at(&f->edges, i);

        if (e->id == id)
            return (int64_t)i;
    }
    return TL_NULL;
}

/* Appends stack `id` with its frames, unless id is NULL. Returns 0 or -EIO. */
static int add_stack(struct loader *l, struct tl_finding *f, int64_t id, const char *role,
                     int64_t thread, int64_t lock, int64_t edge)
{
    struct tl_stack *s;
    sqlite3_stmt *st;
    int rc;

    if (id == TL_NULL)
        return 0;
    s = tl_vec_push(&f->stacks);
    s->role = tl_xstrdup(role);
    s->thread = thread;
    s->lock = lock;
    s->edge = edge;
    tl_vec_init(&s->frames, sizeof(struct tl_frame));
    st = query(l, Q_FRAMES, id, 0);
    while ((rc = step(l, st)) == 1) {
        struct tl_frame *fr = tl_vec_push(&s->frames);

        fr->module = col_str(st, 0);
        fr->offset = col_int(st, 1);
        fr->function = col_str(st, 2);
    }
    return rc;
}

/*
 * Appends lock_edge `id` of the finding's process and its held and acquired
 * stacks. The thread is the item's when set, else the edge's first thread.
 * Returns 0 (also when the edge row is missing) or -EIO.
 */
static int add_edge(struct loader *l, struct tl_finding *f, int64_t id, int64_t thread)
{
    sqlite3_stmt *st = query(l, Q_EDGE, f->proc, id);
    struct tl_fedge *e;
    int64_t held, acquired, idx = (int64_t)f->edges.len;
    int rc = step(l, st);

    if (rc <= 0)
        return rc;
    e = tl_vec_push(&f->edges);
    e->id = id;
    e->from = col_int(st, 0);
    e->to = col_int(st, 1);
    e->thread = thread != TL_NULL ? thread : col_int(st, 2);
    e->threads = col_int(st, 3);
    e->gate_lock = col_int(st, 4);
    e->modes = col_str(st, 5);
    held = col_int(st, 6);
    acquired = col_int(st, 7);
    ref_thread(f, e->thread);
    ref_lock(f, e->from);
    ref_lock(f, e->to);
    rc = add_stack(l, f, held, "held", e->thread, e->from, idx);
    if (rc == 0)
        rc = add_stack(l, f, acquired, "acquired", e->thread, e->to, idx);
    return rc;
}

static bool is(const char *s, const char *want)
{
    return s && strcmp(s, want) == 0;
}

/* Whether item `it` is a thread's own `thread` item (not a `joins` reference). */
static bool own_thread_item(const struct tl_fitem *it)
{
    return is(it->role, "thread") && it->thread != TL_NULL && !is(it->detail, "joins");
}

/*
 * Gives the thread of `it` the item's detail when `it` is the first own
 * thread item naming it. `it` is the last of f->items.
 */
static void set_thread_detail(struct tl_finding *f, const struct tl_fitem *it)
{
    struct tl_fthread *t;

    if (!own_thread_item(it))
        return;
    for (size_t i = 0; i + 1 < f->items.len; i++) {
        const struct tl_fitem *prev = tl_vec_at(&f->items, i);

        if (own_thread_item(prev) && prev->thread == it->thread)
            return;
    }
    t = (struct tl_fthread *)tl_load_thread(f, it->thread);
    if (t && it->detail)
        t->detail = tl_xstrdup(it->detail);
}

/*
 * Handles one finding_item row (the current row of st): keeps it raw in
 * f->items and adds what it references. Returns 0 or -EIO.
 */
static int add_item(struct loader *l, struct tl_finding *f, sqlite3_stmt *st)
{
    struct tl_fitem *it = tl_vec_push(&f->items);
    size_t n_edges = f->edges.len, n_stacks = f->stacks.len;
    int64_t edge = col_int(st, 3), stack = col_int(st, 4);
    int rc;

    it->role = col_str(st, 0);
    it->thread = col_int(st, 1);
    it->lock = col_int(st, 2);
    it->detail = col_str(st, 5);
    it->edge = TL_NULL;
    it->stack = TL_NULL;
    if (is(it->role, "edge")) {
        rc = add_edge(l, f, edge, it->thread);
        if (f->edges.len > n_edges)
            it->edge = (int64_t)n_edges;
        return rc;
    }
    ref_thread(f, it->thread);
    ref_lock(f, it->lock);
    set_thread_detail(f, it);
    if (edge != TL_NULL)
        it->edge = edge_index(f, edge);
    if (!is(it->role, "stack"))
        return 0;
    rc = add_stack(l, f, stack, it->detail ? it->detail : "stack", it->thread, it->lock,
                   it->edge);
    if (f->stacks.len > n_stacks)
        it->stack = (int64_t)n_stacks;
    return rc;
}

/* Fills in tid and name of the finding's threads, kind/addr/name/waits of its locks. */
static int resolve_refs(struct loader *l, struct tl_finding *f)
{
    int rc = 0;

    for (size_t i = 0; i < f->threads.len && rc >= 0; i++) {
        struct tl_fthread *t = tl_vec_at(&f->threads, i);
        sqlite3_stmt *st = query(l, Q_THREAD, f->proc, t->id);

        if ((rc = step(l, st)) == 1) {
            t->tid = col_int(st, 0);
            t->name = col_str(st, 1);
        }
    }
    for (size_t i = 0; i < f->locks.len && rc >= 0; i++) {
        struct tl_flock *k = tl_vec_at(&f->locks, i);
        sqlite3_stmt *st = query(l, Q_LOCK, f->proc, k->id);

        if ((rc = step(l, st)) == 1) {
            k->addr = col_int(st, 0);
            k->kind = col_str(st, 1);
            k->name = col_str(st, 2);
            k->wait_ns = col_int(st, 3);
            k->wait_max_ns = col_int(st, 4);
        }
    }
    return rc < 0 ? rc : 0;
}

static int load_items(struct loader *l, struct tl_finding *f)
{
    sqlite3_stmt *st = query(l, Q_ITEMS, f->id, 0);
    int rc;

    while ((rc = step(l, st)) == 1) {
        rc = add_item(l, f, st);
        if (rc < 0)
            return rc;
    }
    return rc < 0 ? rc : resolve_refs(l, f);
}

static void count_severity(struct tl_run *run, const char *severity)
{
    if (!severity)
        return;
    if (strcmp(severity, TL_SEV_ERROR) == 0)
        run->n_error++;
    else if (strcmp(severity, TL_SEV_WARNING) == 0)
        run->n_warning++;
    else if (strcmp(severity, TL_SEV_INFO) == 0)
        run->n_info++;
}

static int load_findings(struct loader *l, struct tl_run *run)
{
    sqlite3_stmt *st = query(l, Q_FINDINGS, 0, 0);
    int rc;

    while ((rc = step(l, st)) == 1) {
        struct tl_finding *f = tl_vec_push(&run->findings);

        f->id = col_int(st, 0);
        f->proc = col_int(st, 1);
        f->pid = col_int(st, 2);
        f->kind = col_str(st, 3);
        f->severity = col_str(st, 4);
        f->summary = col_str(st, 5);
        f->t_ns = col_int(st, 6);
        f->resolved_ns = col_int(st, 7);
        f->suppressed = col_int(st, 8) == 1;
        tl_vec_init(&f->threads, sizeof(struct tl_fthread));
        tl_vec_init(&f->locks, sizeof(struct tl_flock));
        tl_vec_init(&f->edges, sizeof(struct tl_fedge));
        tl_vec_init(&f->stacks, sizeof(struct tl_stack));
        tl_vec_init(&f->items, sizeof(struct tl_fitem));
        count_severity(run, f->severity);
    }
    for (size_t i = 0; i < run->findings.len && rc == 0; i++)
        rc = load_items(l, tl_vec_at(&run->findings, i));
    return rc;
}

static int load_processes(struct loader *l, struct tl_run *run)
{
    sqlite3_stmt *st = query(l, Q_PROCS, 0, 0);
    int rc;

    while ((rc = step(l, st)) == 1) {
        struct tl_process *p = tl_vec_push(&run->processes);

        p->pid = col_int(st, 0);
        p->ppid = col_int(st, 1);
        p->exe = col_str(st, 2);
        p->end_ns = col_int(st, 3);
        p->exit_status = col_int(st, 4);
        p->end_reason = col_str(st, 5);
        p->start_ns = col_int(st, 6);
        p->attach_ns = col_int(st, 7);
        p->samples = col_int(st, 8);
        p->collector_ns = col_int(st, 9);
        p->collector_max_ns = col_int(st, 10);
        p->agent_max_bytes = col_int(st, 11);
    }
    return rc;
}

static int load_all(struct loader *l, struct tl_run *run)
{
    int rc;

    for (int q = 0; q < Q_COUNT; q++) {
        l->st[q] = tl_db_prepare(l->db, query_sql[q]);
        if (!l->st[q])
            return -EIO;
    }
    rc = load_processes(l, run);

    return rc == 0 ? load_findings(l, run) : rc;
}

/*
 * Reads the processes and findings of db into run, from one snapshot.
 * Returns 0, or -EIO with the message in tl_db_error(db) and run left empty.
 * The caller frees run with tl_load_free() in both cases.
 */
int tl_load_run(struct tl_db *db, struct tl_run *run)
{
    struct loader l = {.db = db};
    int rc;

    memset(run, 0, sizeof(*run));
    tl_vec_init(&run->processes, sizeof(struct tl_process));
    tl_vec_init(&run->findings, sizeof(struct tl_finding));
    rc = tl_db_begin(db);
    if (rc != 0)
        return rc;
    rc = load_all(&l, run);
    for (int q = 0; q < Q_COUNT; q++)
        sqlite3_finalize(l.st[q]);
    if (tl_db_end(db) != 0 && rc == 0)
        rc = -EIO;
    if (rc != 0)
        tl_load_free(run);
    return rc;
}

static void free_finding(struct tl_finding *f)
{
    for (size_t i = 0; i < f->threads.len; i++) {
        struct tl_fthread *t = tl_vec_at(&f->threads, i);

        free(t->name);
        free(t->detail);
    }
    for (size_t i = 0; i < f->items.len; i++) {
        struct tl_fitem *it = tl_vec_at(&f->items, i);

        free(it->role);
        free(it->detail);
    }
    for (size_t i = 0; i < f->locks.len; i++) {
        struct tl_flock *k = tl_vec_at(&f->locks, i);

        free(k->kind);
        free(k->name);
    }
    for (size_t i = 0; i < f->edges.len; i++)
        free(((struct tl_fedge *)tl_vec_at(&f->edges, i))->modes);
    for (size_t i = 0; i < f->stacks.len; i++) {
        struct tl_stack *s = tl_vec_at(&f->stacks, i);

        for (size_t k = 0; k < s->frames.len; k++) {
            struct tl_frame *fr = tl_vec_at(&s->frames, k);

            free(fr->function);
            free(fr->module);
        }
        tl_vec_free(&s->frames);
        free(s->role);
    }
    tl_vec_free(&f->threads);
    tl_vec_free(&f->locks);
    tl_vec_free(&f->edges);
    tl_vec_free(&f->stacks);
    tl_vec_free(&f->items);
    free(f->kind);
    free(f->severity);
    free(f->summary);
}

static int matches(const struct tl_suppressions *supp, const struct tl_finding *f)
{
    for (size_t i = 0; supp && i < f->stacks.len; i++) {
        const struct tl_stack *s = tl_vec_at(&f->stacks, i);
        const char *functions[64], *modules[64];
        size_t n = 0;
        for (; n < s->frames.len && n < 64; n++) {
            const struct tl_frame *fr = tl_vec_at(&s->frames, n);
            functions[n] = fr->function;
            modules[n] = fr->module;
        }
        if (tl_supp_match(supp, f->kind, functions, modules, n))
            return 1;
    }
    return 0;
}

void tl_load_suppress(struct tl_run *run, const struct tl_suppressions *supp, int keep)
{
    struct tl_vec kept;
    tl_vec_init(&kept, sizeof(struct tl_finding));
    run->n_error = run->n_warning = run->n_info = run->n_suppressed = 0;
    for (size_t i = 0; i < run->findings.len; i++) {
        struct tl_finding *f = tl_vec_at(&run->findings, i);
        f->suppressed = f->suppressed || matches(supp, f);
        if (f->suppressed)
            run->n_suppressed++;
        else
            count_severity(run, f->severity);
        if (f->suppressed && !keep)
            free_finding(f);
        else
            *(struct tl_finding *)tl_vec_push(&kept) = *f;
    }
    tl_vec_free(&run->findings);
    run->findings = kept;
}

/* Frees everything run holds and leaves it empty. Can't fail. */
void tl_load_free(struct tl_run *run)
{
    for (size_t i = 0; i < run->processes.len; i++) {
        struct tl_process *p = tl_vec_at(&run->processes, i);

        free(p->exe);
        free(p->end_reason);
    }
    for (size_t i = 0; i < run->findings.len; i++)
        free_finding(tl_vec_at(&run->findings, i));
    tl_vec_free(&run->processes);
    tl_vec_free(&run->findings);
    run->n_error = run->n_warning = run->n_info = 0;
}

/* Returns the finding's thread with thread.id `id`, or NULL. */
const struct tl_fthread *tl_load_thread(const struct tl_finding *f, int64_t id)
{
    for (size_t i = 0; i < f->threads.len; i++) {
        const struct tl_fthread *t = tl_vec_at(&f->threads, i);

        if (t->id == id)
            return t;
    }
    return NULL;
}

/* Returns the finding's lock with lock.id `id`, or NULL. */
const struct tl_flock *tl_load_lock(const struct tl_finding *f, int64_t id)
{
    for (size_t i = 0; i < f->locks.len; i++) {
        const struct tl_flock *k = tl_vec_at(&f->locks, i);

        if (k->id == id)
            return k;
    }
    return NULL;
}
