/*
 * store.c - SQLite writer (see store.h). Divisions: connection and schema;
 * stacks; rows for threads, locks and edges; findings and their summaries;
 * samples and the process row.
 */
#include "store.h"

#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "schema.h"
#include "schema_image.h"
#include "options.h"
#include "suppress.h"
#include "symbols.h"

enum stmt_id {
    ST_PROCESS, ST_PROCESS_END, ST_PROCESS_RESUME, ST_STACK_INSERT, ST_STACK_FIND, ST_FRAME, ST_THREAD,
    ST_THREAD_EVENT, ST_LOCK, ST_LOCK_COUNTS, ST_EDGE, ST_FINDING, ST_FINDING_SEVERITY,
    ST_FINDING_RESOLVED, ST_ITEM,
    ST_SAMPLE, ST_TASK, ST_THREAD_STATE, ST_SITE, ST_SITE_SAMPLE,
    ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_PROCESS] = "INSERT INTO process(pid, ppid, exe, cmdline, start_ns, attach_ns) VALUES(?,?,?,?,?,?)",
    [ST_PROCESS_END] = "UPDATE process SET end_ns=?, exit_status=?, end_reason=? WHERE id=?",
    [ST_PROCESS_RESUME] = "UPDATE process SET end_ns=NULL, exit_status=NULL, end_reason=NULL "
                          "WHERE id=?",
    [ST_STACK_INSERT] = "INSERT OR IGNORE INTO stack(hash, depth) VALUES(?,?)",
    [ST_STACK_FIND] = "SELECT id FROM stack WHERE hash=?",
    [ST_FRAME] = "INSERT OR REPLACE INTO frame(stack, idx, module, offset, function) "
                 "VALUES(?,?,?,?,?)",
    [ST_THREAD] = "INSERT OR REPLACE INTO thread(proc, id, tid, name, creator, create_stack, "
                  "start_ns, end_ns, end_how) VALUES(?,?,?,?,?,?,?,?,?)",
    [ST_THREAD_STATE] = "INSERT OR REPLACE INTO thread_state(proc, thread, t_ns, wait_kind, "
                        "wait_object, wait_lock, wait_since_ns, wait_stack, held) "
                        "VALUES(?,?,?,?,?,?,?,?,?)",
    [ST_THREAD_EVENT] = "INSERT INTO thread_event(proc, thread, t_ns, event, other) "
                        "VALUES(?,?,?,?,?)",
    [ST_LOCK] = "INSERT OR REPLACE INTO lock(proc, id, addr, kind, name, first_stack, "
                "first_thread, created_ns, destroyed_ns, acquisitions, contentions, wait_ns, "
                "wait_max_ns) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [ST_LOCK_COUNTS] = "UPDATE lock SET acquisitions=?, contentions=?, wait_ns=?, wait_max_ns=? "
                       "WHERE proc=? AND id=?",
    [ST_EDGE] = "INSERT OR REPLACE INTO lock_edge(proc, id, from_lock, to_lock, thread, "
                "held_stack, acquire_stack, first_ns, threads, gate_lock, modes) "
                "VALUES(?,?,?,?,?,?,?,?,?,?,?)",
    [ST_FINDING] = "INSERT INTO finding(proc, kind, severity, summary, t_ns, suppressed) "
                   "VALUES(?,?,?,?,?,?)",
    [ST_FINDING_SEVERITY] = "UPDATE finding SET severity=? WHERE id=?",
    [ST_FINDING_RESOLVED] = "UPDATE finding SET resolved_ns=? WHERE id=?",
    [ST_ITEM] = "INSERT INTO finding_item(finding, seq, role, thread, lock, edge, stack, detail) "
                "VALUES(?,?,?,?,?,?,?,?)",
    [ST_SAMPLE] = "INSERT INTO sample(proc, t_ns, threads_live, threads_total, locks, "
                  "lock_edges, acquisitions, contentions, tick_ns, heap_live_bytes, "
                  "heap_live_count, heap_alloc_bytes, heap_free_bytes, heap_alloc_count, "
                  "heap_free_count, rss_bytes, fds, ctx_voluntary, ctx_involuntary, os_threads, "
                  "tasks_in_flight, tasks_queued, tasks_total, agent_bytes) "
                  "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [ST_TASK] = "INSERT OR REPLACE INTO task(proc, id, name, queued_ns, started_ns, ended_ns, "
                "submit_thread, run_thread, submit_stack) VALUES(?,?,?,?,?,?,?,?,?)",
    [ST_SITE] = "INSERT OR IGNORE INTO alloc_site(proc, id, stack, function, first_ns) "
                "VALUES(?,?,?,?,?)",
    [ST_SITE_SAMPLE] = "INSERT INTO site_sample(proc, site, t_ns, live_bytes, live_count, "
                       "alloc_bytes) VALUES(?,?,?,?,?,?)",
};

static sqlite3 *db;                 /* collector only */
static sqlite3_stmt *stmts[ST_COUNT];
static int64_t proc_id;             /* process.id of this process */
static char db_path[PATH_MAX];
static char last_error[512];        /* what failed last, for the caller's one line */

/* ---- connection and schema ---- */

/* Records what failed; the caller says it once, in its own line. Returns TL_EIO. */
static int fail(const char *what)
{
    snprintf(last_error, sizeof last_error, "%s: %s", what, db ? sqlite3_errmsg(db) : "?");
    return TL_EIO;
}

static int exec(const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : TL_EIO;
}

static int user_version(void)
{
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    return v;
}

/*
 * Creates the schema in an empty database, or checks that an existing one is
 * ours (a new file from the image, or one an exec'd image appends to).
 */
static int init_schema(void)
{
    if (exec("BEGIN IMMEDIATE") < 0)
        return fail("cannot lock");
    int v = user_version();
    if (v != 0 && v != TL_SCHEMA_VERSION) {
        exec("ROLLBACK");
        snprintf(last_error, sizeof last_error, "schema version %d, this agent writes %d", v,
                 TL_SCHEMA_VERSION);
        return TL_EINVAL;
    }
    char period[128];
    /* The heap sampling period, for profiles that scale samples (pprof's period). */
    snprintf(period, sizeof period,
             "INSERT OR REPLACE INTO meta(key, value) VALUES('sample_bytes', '%.0f')",
             tl_options.sample_bytes);
    /* An empty database (one made elsewhere: ours start from the image) gets the schema. */
    if ((v == 0 && exec(TL_SCHEMA_CREATE_SQL) < 0) || exec(period) < 0 || exec("COMMIT") < 0) {
        int rc = fail("cannot create the schema");
        exec("ROLLBACK");
        return rc;
    }
    return 0;
}

/*
 * The statement `id`, prepared on first use: a short-lived process (one
 * step of a build, a shell's command) uses a third of them, and each costs
 * its compilation and fresh heap pages. NULL when it cannot be prepared;
 * SQLite's bind calls return SQLITE_MISUSE on a NULL statement and
 * step_done() reports the failure, so callers need no check of their own.
 */
static sqlite3_stmt *stmt(enum stmt_id id)
{
    if (!stmts[id] && sqlite3_prepare_v3(db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                         &stmts[id], NULL) != SQLITE_OK)
        fail("cannot prepare a statement");
    return stmts[id];
}

static int step_done(sqlite3_stmt *st)
{
    if (!st)
        return TL_EIO;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : TL_EIO;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s && *s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static void bind_id_or_null(sqlite3_stmt *st, int i, int64_t id)
{
    if (id > 0)
        sqlite3_bind_int64(st, i, id);
    else
        sqlite3_bind_null(st, i);
}

static int insert_process(const struct tl_process_info *info)
{
    sqlite3_stmt *st = stmt(ST_PROCESS);
    sqlite3_bind_int(st, 1, info->pid);
    sqlite3_bind_int(st, 2, info->ppid);
    bind_text_or_null(st, 3, info->exe);
    bind_text_or_null(st, 4, info->cmdline);
    sqlite3_bind_int64(st, 5, info->start_ns);
    bind_id_or_null(st, 6, info->attach_ns);
    if (step_done(st) < 0)
        return fail("cannot insert the process row");
    proc_id = sqlite3_last_insert_rowid(db);
    return 0;
}

static int resume_process(void)
{
    sqlite3_stmt *st = stmt(ST_PROCESS_RESUME);
    sqlite3_bind_int64(st, 1, proc_id);
    return step_done(st) < 0 ? fail("cannot reopen the process row") : 0;
}

/*
 * Our copy of SQLite is private (agent/CMakeLists.txt) and only ever used by
 * one thread at a time, under the collector's lock: no mutex of its own is
 * needed, and no memory statistics (one more mutex per allocation; the
 * library is built without lookaside, so each small allocation is a malloc).
 * The mutexes were a quarter of the collector's time writing memcached's
 * first 13,000 lock-order edges. Before the library's first use only;
 * later calls fail harmlessly.
 */
static void configure_sqlite(void)
{
    sqlite3_config(SQLITE_CONFIG_SINGLETHREAD);
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* info NULL: reopen for the same process row (a new attach after a detach). */
int tl_store_open(const char *path, const struct tl_process_info *info)
{
    configure_sqlite();
    snprintf(db_path, sizeof db_path, "%s", path);
    /* A new file starts as the image; an existing one is left to init_schema() to check. */
    tl_schema_image_write(path);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        int rc = fail("cannot open");
        tl_store_close();
        return rc;
    }
    sqlite3_busy_timeout(db, 5000); /* an exec'd child or a reader may hold the lock briefly */
    /*
     * No syncs while a new file switches to WAL and gets its schema (five
     * fdatasyncs, half of the open's time): a crash then loses nothing that
     * was recorded. The recording itself runs with NORMAL (synced at
     * checkpoints).
     */
    exec("PRAGMA synchronous=OFF");
    int rc = exec("PRAGMA journal_mode=WAL") < 0 ? fail("cannot enable WAL") : 0;
    if (rc == 0)
        rc = init_schema();
    if (rc == 0)
        rc = exec("PRAGMA synchronous=NORMAL");
    if (rc == 0)
        rc = info ? insert_process(info) : resume_process();
    if (rc < 0)
        tl_store_close();
    return rc;
}

void tl_store_abandon(void)
{
    db = NULL;
    memset(stmts, 0, sizeof stmts);
}

void tl_store_close(void)
{
    if (!db)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        if (stmts[i])
            sqlite3_finalize(stmts[i]);
    memset(stmts, 0, sizeof stmts);
    /*
     * The close checkpoints the WAL into the database file, so the file is
     * whole on its own, and removes the WAL. Its two fdatasyncs (2-3 ms, on
     * the path of every exit) only guard against the machine losing power in
     * the seconds after the program ended; a crash of the program itself
     * loses nothing either way. Diagnostics files are written like that.
     */
    exec("PRAGMA synchronous=OFF");
    sqlite3_close(db);
    db = NULL;
}

int tl_store_is_open(void)
{
    return db != NULL;
}

const char *tl_store_path(void)
{
    return db_path;
}

const char *tl_store_error(void)
{
    return last_error[0] ? last_error : "closed";
}

int tl_store_begin(void)
{
    return exec("BEGIN IMMEDIATE") < 0 ? fail("cannot begin a transaction") : 0;
}

int tl_store_commit(void)
{
    if (exec("COMMIT") < 0) {
        int rc = fail("cannot commit");
        exec("ROLLBACK");
        return rc;
    }
    return 0;
}

/* ---- stacks ---- */

static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* Return addresses point after the call; pc - 1 is inside the calling line. */
static void lookup_frame(uintptr_t pc, struct tl_symbol *sym)
{
    tl_symbols_lookup(pc - 1, sym);
}

/* The stack's row id, written on first use. 0 when there is no stack. Negative on error. */
static int64_t stack_id(struct tl_stack *s)
{
    if (!s || s->depth == 0)
        return 0;
    int64_t id = atomic_load_explicit(&s->db_id, memory_order_relaxed);
    if (id > 0)
        return id;
    struct tl_symbol syms[TL_STACK_MAX];
    uint64_t h = 1469598103934665603ull;
    for (uint32_t i = 0; i < s->depth; i++) {
        lookup_frame(s->pc[i], &syms[i]);
        const char *mod = syms[i].module ? syms[i].module : "?";
        h = fnv(h, mod, strlen(mod) + 1);
        uint64_t off = syms[i].module ? syms[i].offset : s->pc[i];
        h = fnv(h, &off, sizeof off);
    }
    sqlite3_stmt *ins = stmt(ST_STACK_INSERT);
    sqlite3_bind_int64(ins, 1, (int64_t)h);
    sqlite3_bind_int(ins, 2, (int)s->depth);
    if (step_done(ins) < 0)
        return TL_EIO;
    int fresh = sqlite3_changes(db) > 0;
    sqlite3_stmt *find = stmt(ST_STACK_FIND);
    sqlite3_bind_int64(find, 1, (int64_t)h);
    id = sqlite3_step(find) == SQLITE_ROW ? sqlite3_column_int64(find, 0) : 0;
    sqlite3_reset(find);
    if (id <= 0)
        return TL_EIO;
    for (uint32_t i = 0; fresh && i < s->depth; i++) {
        sqlite3_stmt *fr = stmt(ST_FRAME);
        sqlite3_bind_int64(fr, 1, id);
        sqlite3_bind_int(fr, 2, (int)i);
        bind_text_or_null(fr, 3, syms[i].module);
        sqlite3_bind_int64(fr, 4, (int64_t)(syms[i].module ? syms[i].offset : s->pc[i] - 1));
        bind_text_or_null(fr, 5, syms[i].name);
        if (step_done(fr) < 0)
            return TL_EIO;
    }
    atomic_store_explicit(&s->db_id, id, memory_order_relaxed);
    return id;
}

/* ---- threads, locks, edges ---- */

static const char *end_how_name(int how)
{
    switch (how) {
    case TL_END_RETURN: return "return";
    case TL_END_EXIT: return "exit";
    case TL_END_CANCEL: return "cancel";
    default: return NULL;
    }
}

enum { EV_CREATED = 1, EV_EXITED = 2, EV_JOINED = 4, EV_DETACHED = 8 };

static int thread_event(struct tl_thread *t, unsigned ev, const char *name, int64_t when,
                        uint32_t other)
{
    if (t->written_events & ev)
        return 0;
    sqlite3_stmt *st = stmt(ST_THREAD_EVENT);
    sqlite3_bind_int64(st, 1, proc_id);
    sqlite3_bind_int(st, 2, (int)t->id);
    sqlite3_bind_int64(st, 3, when);
    sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
    bind_id_or_null(st, 5, other);
    if (step_done(st) < 0)
        return TL_EIO;
    t->written_events |= ev;
    return 0;
}

int tl_store_thread(struct tl_thread *t)
{
    int64_t create_stack = stack_id(t->create_stack);
    if (create_stack < 0)
        return fail("cannot write a stack");
    char name[16];
    tl_thread_copy_name(t, name);
    int64_t end_ns = atomic_load(&t->end_ns);
    sqlite3_stmt *st = stmt(ST_THREAD);
    sqlite3_bind_int64(st, 1, proc_id);
    sqlite3_bind_int(st, 2, (int)t->id);
    sqlite3_bind_int(st, 3, t->tid);
    bind_text_or_null(st, 4, name);
    bind_id_or_null(st, 5, t->creator);
    bind_id_or_null(st, 6, create_stack);
    sqlite3_bind_int64(st, 7, t->start_ns);
    bind_id_or_null(st, 8, end_ns);
    bind_text_or_null(st, 9, end_ns ? end_how_name(atomic_load(&t->end_how)) : NULL);
    if (step_done(st) < 0)
        return fail("cannot write a thread");
    uint32_t joiner = atomic_load(&t->joined_by);
    int rc = thread_event(t, EV_CREATED, "created", t->start_ns, t->creator);
    if (rc == 0 && end_ns)
        rc = thread_event(t, EV_EXITED, "exited", end_ns, 0);
    if (rc == 0 && joiner)
        rc = thread_event(t, EV_JOINED, "joined", end_ns, joiner);
    uint32_t detacher = atomic_load(&t->detached_by);
    if (rc == 0 && detacher)
        rc = thread_event(t, EV_DETACHED, "detached", end_ns ? end_ns : t->start_ns, detacher);
    return rc < 0 ? fail("cannot write a thread event") : 0;
}

/* "lock_a", "accounts+0x40", or NULL for a lock outside any module (heap, stack). */
static void lock_name(const struct tl_lock *l, char *buf, size_t size)
{
    struct tl_symbol sym;
    buf[0] = '\0';
    if (tl_symbols_lookup(l->addr, &sym) < 0 || !sym.name)
        return;
    if (sym.name_offset)
        snprintf(buf, size, "%s+0x%lx", sym.name, (unsigned long)sym.name_offset);
    else
        snprintf(buf, size, "%s", sym.name);
}

int tl_store_lock(const struct tl_lock *l)
{
    int64_t first_stack = stack_id(l->first_stack);
    if (first_stack < 0)
        return fail("cannot write a stack");
    char name[256];
    lock_name(l, name, sizeof name);
    sqlite3_stmt *st = stmt(ST_LOCK);
    sqlite3_bind_int64(st, 1, proc_id);
    sqlite3_bind_int(st, 2, (int)l->id);
    sqlite3_bind_int64(st, 3, (int64_t)l->addr);
    sqlite3_bind_text(st, 4, tl_lock_kind_name(l->kind), -1, SQLITE_STATIC);
    bind_text_or_null(st, 5, name);
    bind_id_or_null(st, 6, first_stack);
    bind_id_or_null(st, 7, l->first_thread);
    sqlite3_bind_int64(st, 8, l->created_ns);
    bind_id_or_null(st, 9, atomic_load(&l->destroyed_ns));
    sqlite3_bind_int64(st, 10, (int64_t)atomic_load(&l->acquisitions));
    sqlite3_bind_int64(st, 11, (int64_t)atomic_load(&l->contentions));
    sqlite3_bind_int64(st, 12, (int64_t)atomic_load(&l->wait_ns));
    sqlite3_bind_int64(st, 13, (int64_t)atomic_load(&l->wait_max_ns));
    return step_done(st) < 0 ? fail("cannot write a lock") : 0;
}

int tl_store_lock_counts(struct tl_lock *l)
{
    uint64_t acq = atomic_load_explicit(&l->acquisitions, memory_order_relaxed);
    uint64_t cont = atomic_load_explicit(&l->contentions, memory_order_relaxed);
    uint64_t wait = atomic_load_explicit(&l->wait_ns, memory_order_relaxed);
    /*
     * One word remembers the counts the row has, mixed: a record stays three
     * cache lines. Two sets of counts that mix alike would leave the row one
     * change behind, until the next.
     */
    uint64_t sig = acq ^ cont * 0x9E3779B97F4A7C15ull ^ wait * 0xC2B2AE3D27D4EB4Full;
    if (sig == l->written_counts)
        return 0;
    sqlite3_stmt *st = stmt(ST_LOCK_COUNTS);
    sqlite3_bind_int64(st, 1, (int64_t)acq);
    sqlite3_bind_int64(st, 2, (int64_t)cont);
    sqlite3_bind_int64(st, 3, (int64_t)wait);
    sqlite3_bind_int64(st, 4, (int64_t)atomic_load(&l->wait_max_ns));
    sqlite3_bind_int64(st, 5, proc_id);
    sqlite3_bind_int(st, 6, (int)l->id);
    if (step_done(st) < 0)
        return fail("cannot update lock counts");
    l->written_counts = sig;
    return 0;
}

static void modes_text(unsigned modes, char *buf, size_t size)
{
    static const char *const names[4] = {"R->R", "R->W", "W->R", "W->W"};
    buf[0] = '\0';
    for (int bit = 3; bit >= 0; bit--)
        if (modes & (1u << bit)) {
            if (buf[0])
                strncat(buf, ",", size - strlen(buf) - 1);
            strncat(buf, names[bit], size - strlen(buf) - 1);
        }
}

int tl_store_edge(const struct tl_edge *e)
{
    int64_t held = stack_id(e->held_stack), acquire = stack_id(e->acquire_stack);
    if (held < 0 || acquire < 0)
        return fail("cannot write a stack");
    char modes[32];
    modes_text(atomic_load(&e->modes), modes, sizeof modes);
    uint32_t gate = 0;
    for (int g = 0; g < TL_EDGE_GATES && !gate; g++)
        gate = atomic_load(&e->gates[g]);
    sqlite3_stmt *st = stmt(ST_EDGE);
    sqlite3_bind_int64(st, 1, proc_id);
    sqlite3_bind_int(st, 2, (int)e->id);
    sqlite3_bind_int(st, 3, (int)e->from->id);
    sqlite3_bind_int(st, 4, (int)e->to->id);
    sqlite3_bind_int(st, 5, (int)e->thread);
    bind_id_or_null(st, 6, held);
    bind_id_or_null(st, 7, acquire);
    sqlite3_bind_int64(st, 8, e->first_ns);
    sqlite3_bind_int(st, 9, atomic_load(&e->multi) ? 2 : 1);
    bind_id_or_null(st, 10, gate);
    sqlite3_bind_text(st, 11, modes, -1, SQLITE_TRANSIENT);
    return step_done(st) < 0 ? fail("cannot write a lock edge") : 0;
}

/* ---- findings ---- */

void tl_store_lock_label(const struct tl_lock *l, char *buf, size_t size)
{
    char name[256];
    lock_name(l, name, sizeof name);
    if (name[0])
        snprintf(buf, size, "%s %s", tl_lock_kind_name(l->kind), name);
    else
        snprintf(buf, size, "%s 0x%lx", tl_lock_kind_name(l->kind), (unsigned long)l->addr);
}

static void append(char *buf, size_t size, const char *s)
{
    size_t n = strlen(buf);
    if (n + 1 < size)
        snprintf(buf + n, size - n, "%s", s);
}

static void lock_order_summary(const struct tl_finding *f, char *buf, size_t size)
{
    char label[300];
    snprintf(buf, size, "lock-order cycle: ");
    for (unsigned i = 0; i < f->nitems; i++) {
        tl_store_lock_label(f->items[i].edge->from, label, sizeof label);
        append(buf, size, label);
        append(buf, size, " -> ");
    }
    tl_store_lock_label(f->items[0].edge->from, label, sizeof label);
    append(buf, size, label);
}

static const struct tl_lock *finding_lock(const struct tl_finding *f)
{
    for (unsigned i = 0; i < f->nitems; i++)
        if (f->items[i].lock)
            return f->items[i].lock;
    return NULL;
}

static void misuse_summary(const struct tl_finding *f, char *buf, size_t size)
{
    char label[300] = "a lock";
    const struct tl_lock *l = finding_lock(f);
    if (l)
        tl_store_lock_label(l, label, sizeof label);
    unsigned t = f->thread;
    switch (f->misuse) {
    case TL_MISUSE_UNLOCK_NOT_HELD:
        snprintf(buf, size, "unlock of %s by thread T%u, which does not hold it", label, t);
        break;
    case TL_MISUSE_DESTROY_HELD:
        snprintf(buf, size, "destroy of %s while it is locked (thread T%u)", label, t);
        break;
    case TL_MISUSE_RELOCK:
        snprintf(buf, size, "thread T%u locks %s, which it already holds (self-deadlock)", t,
                 label);
        break;
    default:
        snprintf(buf, size, "thread T%u exited while holding %s", t, label);
        break;
    }
}

static const char *role_name(int role)
{
    switch (role) {
    case TL_ROLE_EDGE: return "edge";
    case TL_ROLE_THREAD: return "thread";
    case TL_ROLE_LOCK: return "lock";
    default: return "stack";
    }
}

static int insert_item(const struct tl_finding *f, unsigned seq)
{
    const struct tl_finding_item *it = &f->items[seq];
    int64_t stack = stack_id(it->stack);
    if (stack < 0)
        return TL_EIO;
    sqlite3_stmt *st = stmt(ST_ITEM);
    sqlite3_bind_int64(st, 1, f->db_id);
    sqlite3_bind_int(st, 2, (int)seq);
    sqlite3_bind_text(st, 3, role_name(it->role), -1, SQLITE_STATIC);
    bind_id_or_null(st, 4, it->thread);
    bind_id_or_null(st, 5, it->lock ? it->lock->id : 0);
    bind_id_or_null(st, 6, it->edge ? it->edge->id : 0);
    bind_id_or_null(st, 7, stack);
    bind_text_or_null(st, 8, it->detail);
    return step_done(st);
}

/* Whether a suppression rule matches a frame of one of the finding's stacks. */
static int suppressed(const struct tl_finding *f)
{
    if (!tl_options.suppressions)
        return 0;
    const char *functions[TL_STACK_MAX], *modules[TL_STACK_MAX];
    for (unsigned i = 0; i < f->nitems; i++) {
        const struct tl_stack *stacks[3] = {f->items[i].stack, NULL, NULL};
        if (f->items[i].edge) {
            stacks[1] = f->items[i].edge->held_stack;
            stacks[2] = f->items[i].edge->acquire_stack;
        }
        for (int k = 0; k < 3; k++) {
            const struct tl_stack *s = stacks[k];
            size_t n = 0;
            for (uint32_t j = 0; s && j < s->depth && n < TL_STACK_MAX; j++, n++) {
                struct tl_symbol sym;
                lookup_frame(s->pc[j], &sym);
                functions[n] = sym.name;
                modules[n] = sym.module;
            }
            if (tl_supp_match(tl_options.suppressions, tl_finding_kind_name(f->kind), functions,
                              modules, n))
                return 1;
        }
    }
    return 0;
}

static int insert_finding(struct tl_finding *f, int severity)
{
    char summary[1024];
    if (f->summary)
        snprintf(summary, sizeof summary, "%s", f->summary);
    else if (f->kind == TL_FINDING_LOCK_ORDER)
        lock_order_summary(f, summary, sizeof summary);
    else
        misuse_summary(f, summary, sizeof summary);
    if (!f->summary)
        f->summary = tl_finding_text(summary); /* on_finding's JSON sends it too */
    sqlite3_stmt *st = stmt(ST_FINDING);
    sqlite3_bind_int64(st, 1, proc_id);
    sqlite3_bind_text(st, 2, tl_finding_kind_name(f->kind), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, tl_severity_name(severity), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, summary, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, f->t_ns);
    f->suppressed = suppressed(f);
    sqlite3_bind_int(st, 6, f->suppressed);
    if (step_done(st) < 0)
        return TL_EIO;
    f->db_id = sqlite3_last_insert_rowid(db);
    for (unsigned i = 0; i < f->nitems; i++)
        if (insert_item(f, i) < 0)
            return TL_EIO;
    return 0;
}

static int update_resolved(struct tl_finding *f)
{
    int64_t resolved = atomic_load(&f->resolved_ns);
    if (resolved == f->written_resolved)
        return 0;
    sqlite3_stmt *st = stmt(ST_FINDING_RESOLVED);
    bind_id_or_null(st, 1, resolved);
    sqlite3_bind_int64(st, 2, f->db_id);
    if (step_done(st) < 0)
        return fail("cannot write a finding's resolution");
    f->written_resolved = resolved;
    return 0;
}

int tl_store_finding(struct tl_finding *f)
{
    int severity = atomic_load(&f->severity);
    if (severity == f->written_severity)
        return f->db_id ? update_resolved(f) : 0;
    int rc;
    if (f->db_id == 0) {
        rc = insert_finding(f, severity);
    } else {
        sqlite3_stmt *st = stmt(ST_FINDING_SEVERITY);
        sqlite3_bind_text(st, 1, tl_severity_name(severity), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, f->db_id);
        rc = step_done(st);
    }
    if (rc < 0)
        return fail("cannot write a finding");
    f->written_severity = severity;
    return update_resolved(f);
}

/* ---- samples and the process ---- */

int tl_store_sample(const struct tl_sample *s)
{
    sqlite3_stmt *st = stmt(ST_SAMPLE);
    sqlite3_bind_int64(st, 1, proc_id);
    sqlite3_bind_int64(st, 2, s->t_ns);
    sqlite3_bind_int(st, 3, (int)s->threads_live);
    sqlite3_bind_int(st, 4, (int)s->threads_total);
    sqlite3_bind_int(st, 5, (int)s->locks);
    sqlite3_bind_int(st, 6, (int)s->edges);
    sqlite3_bind_int64(st, 7, (int64_t)s->acquisitions);
    sqlite3_bind_int64(st, 8, (int64_t)s->contentions);
    sqlite3_bind_int64(st, 9, s->tick_ns);
    const int64_t more[] = {s->heap_live_bytes, s->heap_live_count,
                            (int64_t)s->heap_alloc_bytes, (int64_t)s->heap_free_bytes,
                            (int64_t)s->heap_alloc_count, (int64_t)s->heap_free_count,
                            s->rss_bytes, s->fds, s->ctx_voluntary, s->ctx_involuntary,
                            s->os_threads, s->tasks_in_flight, s->tasks_queued, s->tasks_total,
                            s->agent_bytes};
    for (int i = 0; i < (int)(sizeof more / sizeof more[0]); i++) {
        if (more[i] < 0)
            sqlite3_bind_null(st, 10 + i);
        else
            sqlite3_bind_int64(st, 10 + i, more[i]);
    }
    return step_done(st) < 0 ? fail("cannot write a sample") : 0;
}

int tl_store_thread_state(const struct tl_thread *t, int64_t t_ns, const char *wait_kind,
                          uintptr_t wait_object, const struct tl_lock *wait_lock,
                          int64_t wait_since_ns, struct tl_stack *wait_stack, const char *held)
{
    int64_t stack = stack_id(wait_stack);
    if (stack < 0)
        return fail("cannot write a stack");
    sqlite3_stmt *st = stmt(ST_THREAD_STATE);
    sqlite3_bind_int64(st, 1, proc_id);
    sqlite3_bind_int(st, 2, (int)t->id);
    sqlite3_bind_int64(st, 3, t_ns);
    bind_text_or_null(st, 4, wait_kind);
    bind_id_or_null(st, 5, wait_kind ? (int64_t)wait_object : 0);
    bind_id_or_null(st, 6, wait_lock ? wait_lock->id : 0);
    bind_id_or_null(st, 7, wait_kind ? wait_since_ns : 0);
    bind_id_or_null(st, 8, stack);
    bind_text_or_null(st, 9, held);
    return step_done(st) < 0 ? fail("cannot write a thread state") : 0;
}

/* Interns a one-frame stack and returns its row id (for the held-lock list). 0 on failure. */
int64_t tl_store_pc_stack(uintptr_t pc)
{
    int64_t id = stack_id(tl_stack_intern(&pc, 1));
    return id > 0 ? id : 0;
}

int tl_store_task(const struct tl_task_row *t)
{
    int64_t stack = stack_id(t->submit_stack);
    if (stack < 0)
        return fail("cannot write a stack");
    sqlite3_stmt *st = stmt(ST_TASK);
    sqlite3_bind_int64(st, 1, proc_id);
    sqlite3_bind_int64(st, 2, (int64_t)t->id);
    bind_text_or_null(st, 3, t->name);
    bind_id_or_null(st, 4, t->queued_ns);
    bind_id_or_null(st, 5, t->started_ns);
    bind_id_or_null(st, 6, t->ended_ns);
    bind_id_or_null(st, 7, t->submit_thread);
    bind_id_or_null(st, 8, t->run_thread);
    bind_id_or_null(st, 9, stack);
    return step_done(st) < 0 ? fail("cannot write a task") : 0;
}

void tl_store_stack_function(struct tl_stack *stack, char *buf, size_t size)
{
    struct tl_symbol sym;
    if (stack && stack->depth && tl_symbols_lookup(stack->pc[0] - 1, &sym) == 0 && sym.name)
        snprintf(buf, size, "%s", sym.name);
    else
        snprintf(buf, size, "??");
}

int tl_store_site(const struct tl_site_row *site)
{
    int64_t stack = stack_id(site->stack);
    if (stack < 0)
        return fail("cannot write a stack");
    char function[256];
    tl_store_stack_function(site->stack, function, sizeof function);
    sqlite3_stmt *st = stmt(ST_SITE);
    sqlite3_bind_int64(st, 1, proc_id);
    sqlite3_bind_int(st, 2, (int)site->id);
    bind_id_or_null(st, 3, stack);
    sqlite3_bind_text(st, 4, function, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, site->first_ns);
    return step_done(st) < 0 ? fail("cannot write an allocation site") : 0;
}

int tl_store_site_sample(uint32_t site, int64_t t_ns, int64_t live_bytes, int64_t live_count,
                         int64_t alloc_bytes)
{
    sqlite3_stmt *st = stmt(ST_SITE_SAMPLE);
    sqlite3_bind_int64(st, 1, proc_id);
    sqlite3_bind_int(st, 2, (int)site);
    sqlite3_bind_int64(st, 3, t_ns);
    sqlite3_bind_int64(st, 4, live_bytes);
    sqlite3_bind_int64(st, 5, live_count);
    sqlite3_bind_int64(st, 6, alloc_bytes);
    return step_done(st) < 0 ? fail("cannot write a site sample") : 0;
}

int tl_store_process_end(int64_t end_ns, int status, const char *reason)
{
    sqlite3_stmt *st = stmt(ST_PROCESS_END);
    bind_id_or_null(st, 1, end_ns);
    if (status >= 0)
        sqlite3_bind_int(st, 2, status);
    else
        sqlite3_bind_null(st, 2);
    bind_text_or_null(st, 3, reason);
    sqlite3_bind_int64(st, 4, proc_id);
    return step_done(st) < 0 ? fail("cannot write the process end") : 0;
}
