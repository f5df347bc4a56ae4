/*
 * test_model.c - viewer/model.c: the queries behind the dashboard's views,
 * against a database built here with the agent's schema (TL_SCHEMA_SQL) and
 * the row relations the README documents.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "db.h"
#include "model.h"
#include "panel.h"
#include "schema.h"
#include "screen.h"

/* Named columns: a column added to `finding` cannot shift these rows. */
#define FINDING_COLS "(id, proc, kind, severity, summary, t_ns, resolved_ns) "

#define S(x) ((int64_t)(x) * 1000000000) /* seconds to ns */

struct fixture {
    char path[64];       /* database file */
    struct tl_db *db;    /* read-only viewer connection */
    struct tl_model m;   /* loaded model */
};

static void sql(sqlite3 *db, const char *text)
{
    char *err = NULL;

    if (sqlite3_exec(db, text, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s in %s", err, text);
}

/*
 * Process 1 (pid 100) runs; its threads: 1 main, 2 exited, 3 and 4 deadlocked
 * on lock_a/lock_b (which also make a lock-order inversion), 5 a leaked
 * zombie, 6 blocked in a cond wait. Sites: `grow` +100 B/s, `flat`.
 */
static const char rows[] =
    "INSERT INTO meta VALUES('app', 'threadlens');"
    "INSERT INTO process(id, pid, ppid, exe, cmdline, start_ns, end_ns, exit_status, end_reason) VALUES(1, 100, 1, '/bin/prog', 'prog', 1000000000, NULL, NULL, NULL);"
    "INSERT INTO sample(proc, t_ns, threads_live, threads_total, acquisitions, contentions,"
    " heap_live_bytes, rss_bytes, tasks_in_flight, tick_ns, agent_bytes) VALUES"
    " (1, 1000000000, 1, 1, 0, 0, 100, 4096, 0, 5000000, 65536),"
    " (1, 2000000000, 2, 2, 100, 10, 200, 8192, 1, 30000000, 131072),"
    " (1, 3000000000, 3, 4, 300, 10, 300, 8192, 2, 10000000, 98304);"
    "INSERT INTO thread VALUES(1, 1, 100, 'prog', NULL, NULL, 1000000000, NULL, NULL),"
    " (1, 2, 102, NULL, 1, 11, 1100000000, 1200000000, 'return'),"
    " (1, 3, 103, 'worker-a', 1, 11, 1100000000, NULL, NULL),"
    " (1, 4, 104, 'worker-b', 1, 11, 1100000000, NULL, NULL),"
    " (1, 5, 105, NULL, 1, 11, 1100000000, 1300000000, 'return'),"
    " (1, 6, 106, NULL, 1, 11, 1100000000, NULL, NULL);"
    "INSERT INTO lock(proc, id, addr, kind, name, first_stack, first_thread, created_ns,"
    " destroyed_ns, acquisitions, contentions, wait_ns, wait_max_ns) VALUES"
    " (1, 1, 4096, 'mutex', 'lock_a', 10, 3, 1, NULL, 7, 2, 3000, 2000),"
    " (1, 2, 8192, 'mutex', 'lock_b', 10, 4, 1, NULL, 5, 1, 2500000000, 2500000000),"
    " (1, 3, 4097, 'rwlock', NULL, NULL, NULL, 1, NULL, NULL, NULL, NULL, NULL);"
    "INSERT INTO lock_edge VALUES(1, 1, 1, 2, 3, 10, 11, 1, 1, NULL, 'W->W'),"
    " (1, 2, 2, 1, 4, 10, 11, 1, 1, NULL, 'W->W');"
    "INSERT INTO stack VALUES(10, 1010, 2), (11, 1011, 1);"
    "INSERT INTO frame VALUES(10, 0, '/lib/libthreadlens.so', 16, 'pthread_mutex_lock'),"
    " (10, 1, '/bin/prog', 32, 'worker'), (11, 0, '/bin/prog', 48, 'main');"
    "INSERT INTO finding" FINDING_COLS
    "VALUES(1, 1, 'lock-order-inversion', 'error', 'cycle', 2000000000,"
    " NULL), (2, 1, 'deadlock', 'error', 'dl', 3000000000, NULL),"
    " (3, 1, 'thread-leak', 'warning', 'leak', 2500000000, NULL),"
    " (4, 1, 'blocked-thread', 'info', 'blocked', 1500000000, NULL);"
    "INSERT INTO finding_item VALUES(1, 0, 'edge', 3, NULL, 1, NULL, NULL),"
    " (1, 1, 'edge', 4, NULL, 2, NULL, NULL),"
    " (2, 0, 'thread', 3, NULL, NULL, NULL, 'mutex'), (2, 1, 'lock', NULL, 2, NULL, NULL, 'waits'),"
    " (2, 2, 'lock', NULL, 1, NULL, NULL, 'holds'), (2, 3, 'stack', 3, NULL, NULL, 10, 'blocked'),"
    " (2, 4, 'thread', 4, NULL, NULL, NULL, 'mutex'), (2, 5, 'lock', NULL, 1, NULL, NULL, 'waits'),"
    " (2, 6, 'lock', NULL, 2, NULL, NULL, 'holds'),"
    " (3, 0, 'stack', NULL, NULL, NULL, 11, 'created'),"
    " (3, 1, 'thread', 5, NULL, NULL, NULL, 'zombie'),"
    " (4, 0, 'thread', 6, NULL, NULL, NULL, 'cond'), (4, 1, 'stack', 6, NULL, NULL, 10, 'blocked');"
    "INSERT INTO alloc_site VALUES(1, 1, 10, 'grow', 1000000000), (1, 2, 11, 'flat', 1000000000);"
    "INSERT INTO site_sample VALUES(1, 1, 1000000000, 100, 1, 100),"
    " (1, 1, 2000000000, 200, 2, 200), (1, 1, 3000000000, 300, 3, 300),"
    " (1, 2, 1000000000, 500, 5, 500), (1, 2, 3000000000, 500, 5, 600);";

static void build(struct fixture *f, const char *extra)
{
    sqlite3 *w;
    char pragma[64];
    int fd;

    snprintf(f->path, sizeof(f->path), "/tmp/tl-test-model-XXXXXX");
    fd = mkstemp(f->path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(sqlite3_open(f->path, &w), SQLITE_OK);
    sql(w, TL_SCHEMA_SQL);
    snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", TL_SCHEMA_VERSION);
    sql(w, pragma);
    sql(w, extra);
    sqlite3_close(w);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char err[256];

    build(f, rows);
    assert_int_equal(tl_db_open(f->path, &f->db, err, sizeof(err)), 0);
    assert_int_equal(tl_model_load(f->db, &f->m), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    tl_model_free(&f->m);
    tl_db_close(f->db);
    unlink(f->path);
    free(f);
    return 0;
}

static const struct tl_mthread *thread(const struct tl_model *m, int64_t id)
{
    for (size_t i = 0; i < m->threads.len; i++) {
        const struct tl_mthread *t = tl_vec_at(&m->threads, i);

        if (t->id == id)
            return t;
    }
    fail_msg("no thread %lld", (long long)id);
    return NULL;
}

static void test_model_overview_latest_and_rates(void **state)
{
    const struct tl_overview *o = &((struct fixture *)*state)->m.ov;

    assert_int_equal(o->proc, 1);
    assert_int_equal(o->t_ns, S(3));
    assert_int_equal(o->threads_live, 3);
    assert_int_equal(o->threads_total, 4);
    assert_int_equal(o->tasks_in_flight, 2);
    assert_int_equal(o->heap_live, 300);
    assert_int_equal(o->rss, 8192);
    assert_true(o->acq_rate > 199.9 && o->acq_rate < 200.1);
    assert_true(o->cont_rate > -0.1 && o->cont_rate < 0.1);
    assert_int_equal(o->threads.n, 3);
    assert_true(o->threads.v[0] == 1 && o->threads.v[2] == 3);
    assert_int_equal(o->acq.n, 2);
    assert_true(o->acq.v[0] > 99.9 && o->acq.v[0] < 100.1);
}

/*
 * The collector's 40 ms over the 2 s its samples span: 2%, its longest tick
 * 30 ms. The first sample's 5 ms were spent before the span. The agent's
 * memory is the latest sample's.
 */
static void test_model_overview_collector(void **state)
{
    const struct tl_overview *o = &((struct fixture *)*state)->m.ov;

    assert_true(o->collector_share > 0.0199 && o->collector_share < 0.0201);
    assert_int_equal(o->collector_max_ns, 30000000);
    assert_int_equal(o->ticks.n, 3);
    assert_true(o->ticks.v[0] == 5000000 && o->ticks.v[1] == 30000000 && o->ticks.v[2] == 10000000);
    assert_int_equal(o->agent_bytes, 98304); /* the latest */
    assert_int_equal(o->agent_mem.n, 3);
    assert_true(o->agent_mem.v[0] == 65536 && o->agent_mem.v[1] == 131072);
}

static void test_model_thread_states_from_findings(void **state)
{
    const struct tl_model *m = &((struct fixture *)*state)->m;
    const struct tl_mthread *t3 = thread(m, 3), *t6 = thread(m, 6);

    assert_int_equal(m->threads.len, 6);
    assert_int_equal(thread(m, 1)->state, TL_TS_RUNNING);
    assert_int_equal(thread(m, 2)->state, TL_TS_EXITED);
    assert_int_equal(t3->state, TL_TS_DEADLOCKED);
    assert_string_equal(t3->waits, "mutex lock_b");
    assert_string_equal(t3->holds, "mutex lock_a");
    assert_non_null(t3->blocked);
    assert_int_equal(t3->blocked->frames.len, 2);
    assert_int_equal(thread(m, 4)->state, TL_TS_DEADLOCKED);
    assert_string_equal(thread(m, 4)->waits, "mutex lock_a");
    assert_int_equal(thread(m, 5)->state, TL_TS_LEAKED);
    assert_int_equal(t6->state, TL_TS_BLOCKED);
    assert_string_equal(t6->waits, "cond");
    assert_null(t6->holds);
    assert_string_equal(thread(m, 3)->name, "worker-a");
    assert_int_equal(thread(m, 3)->creator, 1);
    assert_int_equal(thread(m, 3)->create_stack, 11);
}

static void test_model_resolved_deadlock_leaves_threads_running(void **state)
{
    struct fixture *f = *state;

    tl_model_free(&f->m);
    tl_db_close(f->db);
    {
        sqlite3 *w;
        char err[256];

        assert_int_equal(sqlite3_open(f->path, &w), SQLITE_OK);
        sql(w, "UPDATE finding SET resolved_ns = 3500000000 WHERE id IN (2, 4)");
        sqlite3_close(w);
        assert_int_equal(tl_db_open(f->path, &f->db, err, sizeof(err)), 0);
    }
    assert_int_equal(tl_model_load(f->db, &f->m), 0);
    assert_int_equal(thread(&f->m, 3)->state, TL_TS_RUNNING);
    assert_null(thread(&f->m, 3)->waits);
    assert_int_equal(thread(&f->m, 6)->state, TL_TS_RUNNING);
    assert_int_equal(thread(&f->m, 5)->state, TL_TS_LEAKED);
}

/* Index of the Threads view's column titled title. */
static size_t threads_col(const char *title)
{
    for (size_t c = 0; c < tl_screen_threads.ncols; c++) {
        if (strcmp(tl_screen_threads.cols[c].title, title) == 0)
            return c;
    }
    fail_msg("no column %s", title);
    return 0;
}

/*
 * thread_state rows: in running process 1, T2 blocks on mutex lock_b holding
 * lock_a and an unnamed rwlock, T1 runs holding nothing, T3 has no row (the
 * findings' state); in ended process 2, T2 (alive at exit) blocked in a join
 * until the last sample, and T3 exited (its stale row is ignored).
 */
static void test_model_thread_state_rows(void **state)
{
    struct fixture f;
    char err[256], buf[160], *text = NULL;
    size_t len = 0, st_col = threads_col("STATE"), held_col = threads_col("HELD");
    const struct tl_mthread *t1, *t2, *t3;
    struct tl_env env = {.utf8 = true, .now_ns = S(13) + 200000000};
    struct tl_panel p;
    struct tl_row row = {0};
    FILE *out;

    (void)state;
    memset(&f, 0, sizeof(f));
    build(&f, "INSERT INTO meta VALUES('app', 'threadlens');"
              "INSERT INTO process(id, pid, ppid, exe, cmdline, start_ns, end_ns, exit_status, end_reason) VALUES(1, 100, 1, '/bin/p', 'p', 1000000000, NULL, NULL, NULL),"
              " (2, 200, 1, '/bin/q', 'q', 1000000000, 9000000000, NULL, 'signal');"
              "INSERT INTO sample(proc, t_ns) VALUES(1, 5000000000), (2, 7000000000),"
              " (2, 8000000000);"
              "INSERT INTO thread VALUES(1, 1, 100, 'p', NULL, NULL, 1000000000, NULL, NULL),"
              " (1, 2, 101, 'worker', 1, NULL, 1000000000, NULL, NULL),"
              " (1, 3, 102, NULL, 1, NULL, 1000000000, NULL, NULL),"
              " (2, 1, 200, 'q', NULL, NULL, 1000000000, NULL, NULL),"
              " (2, 2, 201, NULL, 1, NULL, 1000000000, NULL, NULL),"
              " (2, 3, 202, NULL, 1, NULL, 1000000000, 2000000000, 'return');"
              "INSERT INTO lock(proc, id, addr, kind, name) VALUES(1, 1, 4096, 'mutex', 'lock_a'),"
              " (1, 2, 8192, 'mutex', 'lock_b'), (1, 3, 4097, 'rwlock', NULL);"
              "INSERT INTO stack VALUES(20, 2020, 1), (21, 2021, 1), (22, 2022, 1), (23, 2023, 1);"
              "INSERT INTO frame VALUES(20, 0, '/bin/p', 16, 'take_a'),"
              " (21, 0, '/bin/p', 32, 'take_rw'), (22, 0, '/bin/p', 48, 'want_b'),"
              " (23, 0, '/bin/q', 64, 'main');"
              "INSERT INTO thread_state VALUES "
              "(1, 1, 10000000000, NULL, NULL, NULL, NULL, NULL, NULL),"
              " (1, 2, 10000000000, 'mutex', 8192, 2, 10000000000, 22, '1@20,3@21'),"
              " (2, 2, 7000000000, 'join', 1234, NULL, 5000000000, 23, NULL),"
              " (2, 3, 1500000000, 'mutex', 8192, 9, 1500000000, NULL, '7@99');"
              "INSERT INTO finding" FINDING_COLS
              "VALUES(1, 1, 'blocked-thread', 'warning', 'b', 1, NULL);"
              "INSERT INTO finding_item VALUES(1, 0, 'thread', 3, NULL, NULL, NULL, 'cond');");
    assert_int_equal(tl_db_open(f.path, &f.db, err, sizeof(err)), 0);
    assert_int_equal(tl_model_load(f.db, &f.m), 0);
    env.db = f.db;
    t1 = tl_vec_at(&f.m.threads, 0);
    t2 = tl_vec_at(&f.m.threads, 1);
    t3 = tl_vec_at(&f.m.threads, 2);

    /* blocked on a mutex, holding two locks */
    assert_true(t2->has_state);
    assert_string_equal(t2->wait_kind, "mutex");
    assert_int_equal(t2->wait_lock, 2);
    assert_string_equal(t2->wait_label, "lock_b");
    assert_string_equal(t2->wait_function, "want_b");
    assert_int_equal(t2->held.len, 2);
    assert_string_equal(((struct tl_mheld *)tl_vec_at(&t2->held, 0))->label, "lock_a");
    assert_string_equal(((struct tl_mheld *)tl_vec_at(&t2->held, 0))->function, "take_a");
    assert_int_equal(((struct tl_mheld *)tl_vec_at(&t2->held, 1))->stack, 21);
    assert_string_equal(((struct tl_mheld *)tl_vec_at(&t2->held, 1))->label, "0x1001");
    assert_string_equal(((struct tl_mheld *)tl_vec_at(&t2->held, 1))->function, "take_rw");
    tl_model_state_text(buf, sizeof(buf), &f.m, t2, env.now_ns);
    assert_string_equal(buf, "blocked on mutex lock_b (3.2s)"); /* now - wait_since */
    tl_model_held_text(buf, sizeof(buf), t2);
    assert_string_equal(buf, "lock_a, 0x1001");
    tl_model_held_text(buf, 10, t2);
    assert_string_equal(buf, "lock_a, 0"); /* truncated */

    /* running, holding nothing */
    assert_true(t1->has_state);
    assert_null(t1->wait_kind);
    assert_int_equal(t1->held.len, 0);
    tl_model_state_text(buf, sizeof(buf), &f.m, t1, env.now_ns);
    assert_string_equal(buf, "running");
    tl_model_held_text(buf, sizeof(buf), t1);
    assert_string_equal(buf, "");

    /* no row: the findings' state, as before */
    assert_false(t3->has_state);
    assert_int_equal(t3->state, TL_TS_BLOCKED);
    tl_model_state_text(buf, sizeof(buf), &f.m, t3, env.now_ns);
    assert_string_equal(buf, "blocked");

    /* ended process: the wait lasts until its last sample; exited stays exited */
    tl_model_state_text(buf, sizeof(buf), &f.m, tl_vec_at(&f.m.threads, 4), env.now_ns);
    assert_string_equal(buf, "blocked in join (3.0s)");
    tl_model_state_text(buf, sizeof(buf), &f.m, tl_vec_at(&f.m.threads, 5), env.now_ns);
    assert_string_equal(buf, "exited");

    /* the view's row and detail */
    tl_panel_init(&p, tl_screen_threads.cols, tl_screen_threads.ncols,
                  tl_screen_threads.sort_col, tl_screen_threads.invert);
    tl_screen_threads.fill(&p, &f.m, &env);
    tl_panel_update(&p);
    assert_int_equal(p.view.len, 6);
    for (size_t i = 0; i < p.view.len; i++) {
        const struct tl_row *r = tl_panel_visible(&p, i);

        if (r->ref == 1) {
            assert_string_equal(r->cells[st_col], "blocked on mutex lock_b (3.2s)");
            assert_string_equal(r->cells[held_col], "lock_a, 0x1001");
            row.ref = 99;
        }
    }
    assert_int_equal(row.ref, 99);
    tl_panel_free(&p);
    row.ref = 1;
    out = open_memstream(&text, &len);
    assert_non_null(out);
    tl_screen_threads.detail(out, &f.m, &row, &env);
    fclose(out);
    assert_non_null(strstr(text, "State: blocked on mutex lock_b (3.2s)"));
    assert_non_null(strstr(text, "Holds (2):\n  mutex lock_a, taken in take_a\n"
                                 "  rwlock 0x1001, taken in take_rw\n"));
    assert_non_null(strstr(text, "Waits for: mutex lock_b, called from want_b\n"));
    free(text);

    tl_model_free(&f.m);
    tl_db_close(f.db);
    unlink(f.path);
}

static void test_model_ended_process_main_thread_exits(void **state)
{
    struct fixture f;
    char err[256];

    (void)state;
    memset(&f, 0, sizeof(f));
    build(&f, "INSERT INTO meta VALUES('app', 'threadlens');"
              "INSERT INTO process(id, pid, ppid, exe, cmdline, start_ns, end_ns, exit_status, end_reason) VALUES(1, 7, 1, '/bin/p', 'p', 1, 5, 3, 'exit');"
              "INSERT INTO thread VALUES(1, 1, 7, NULL, NULL, NULL, 1, NULL, NULL),"
              " (1, 2, 8, NULL, 1, NULL, 2, NULL, NULL);");
    assert_int_equal(tl_db_open(f.path, &f.db, err, sizeof(err)), 0);
    assert_int_equal(tl_model_load(f.db, &f.m), 0);
    assert_int_equal(thread(&f.m, 1)->state, TL_TS_EXITED);
    assert_int_equal(thread(&f.m, 2)->state, TL_TS_ALIVE_EXIT);
    assert_int_equal(f.m.ov.proc, 1);
    assert_int_equal(f.m.ov.t_ns, TL_NULL); /* no sample */
    assert_true(f.m.ov.collector_share < 0);
    assert_int_equal(f.m.ov.collector_max_ns, TL_NULL);
    assert_int_equal(f.m.ov.agent_bytes, TL_NULL);
    assert_int_equal(((struct tl_mproc *)tl_vec_at(&f.m.procs, 0))->exit_status, 3);
    tl_model_free(&f.m);
    tl_db_close(f.db);
    unlink(f.path);
}

static void test_model_empty_database(void **state)
{
    struct fixture f;
    char err[256];

    (void)state;
    memset(&f, 0, sizeof(f));
    build(&f, "INSERT INTO meta VALUES('app', 'threadlens');");
    assert_int_equal(tl_db_open(f.path, &f.db, err, sizeof(err)), 0);
    assert_int_equal(tl_model_load(f.db, &f.m), 0);
    assert_int_equal(f.m.procs.len, 0);
    assert_int_equal(f.m.ov.proc, TL_NULL);
    assert_int_equal(f.m.threads.len + f.m.locks.len + f.m.sites.len + f.m.newest.len, 0);
    tl_model_free(&f.m);
    tl_db_close(f.db);
    unlink(f.path);
}

static void test_model_locks(void **state)
{
    const struct tl_model *m = &((struct fixture *)*state)->m;
    const struct tl_mlock *a = tl_vec_at(&m->locks, 0), *c = tl_vec_at(&m->locks, 2);

    assert_int_equal(m->locks.len, 3);
    assert_string_equal(a->label, "lock_a");
    assert_string_equal(a->kind, "mutex");
    assert_int_equal(a->acquisitions, 7);
    assert_int_equal(a->contentions, 2);
    assert_int_equal(a->edges, 2);
    assert_string_equal(a->first_function, "worker"); /* the wrapper frame is skipped */
    assert_string_equal(c->label, "0x1001");
    assert_int_equal(c->acquisitions, 0);
    assert_int_equal(c->edges, 0);
    assert_null(c->first_function);
}

/* Index of the Locks view's column titled title. */
static size_t locks_col(const char *title)
{
    for (size_t c = 0; c < tl_screen_locks.ncols; c++) {
        if (strcmp(tl_screen_locks.cols[c].title, title) == 0)
            return c;
    }
    fail_msg("no column %s", title);
    return 0;
}

static void test_model_locks_sorted_by_wait(void **state)
{
    struct fixture *f = *state;
    const struct tl_mlock *a = tl_vec_at(&f->m.locks, 0), *b = tl_vec_at(&f->m.locks, 1);
    const struct tl_mlock *c = tl_vec_at(&f->m.locks, 2);
    struct tl_env env = {.db = f->db, .utf8 = true};
    size_t wait = locks_col("WAIT"), max = locks_col("MAX WAIT");
    struct tl_panel p;

    assert_int_equal(a->wait_ns, 3000);
    assert_int_equal(a->wait_max_ns, 2000);
    assert_int_equal(b->wait_ns, 2500000000);
    assert_int_equal(b->wait_max_ns, 2500000000);
    assert_int_equal(c->wait_ns, 0); /* NULL reads as 0 */
    assert_int_equal(c->wait_max_ns, 0);

    /* the view's default order: total wait, longest first, not contentions */
    tl_panel_init(&p, tl_screen_locks.cols, tl_screen_locks.ncols, tl_screen_locks.sort_col,
                  tl_screen_locks.invert);
    assert_int_equal(p.sort_col, (int)wait);
    tl_screen_locks.fill(&p, &f->m, &env);
    tl_panel_update(&p);
    assert_int_equal(p.view.len, 3);
    assert_string_equal(tl_panel_visible(&p, 0)->cells[2], "lock_b");
    assert_string_equal(tl_panel_visible(&p, 0)->cells[wait], "2.50s");
    assert_string_equal(tl_panel_visible(&p, 0)->cells[max], "2.50s");
    assert_string_equal(tl_panel_visible(&p, 1)->cells[2], "lock_a");
    assert_string_equal(tl_panel_visible(&p, 1)->cells[wait], "3.0\xc2\xb5s");
    assert_string_equal(tl_panel_visible(&p, 1)->cells[max], "2.0\xc2\xb5s");
    assert_string_equal(tl_panel_visible(&p, 2)->cells[2], "0x1001");
    assert_string_equal(tl_panel_visible(&p, 2)->cells[wait], "0");
    tl_panel_free(&p);
}

static void test_model_wait_format(void **state)
{
    char buf[32];

    (void)state;
    tl_fmt_wait(buf, sizeof(buf), 999, true);
    assert_string_equal(buf, "999ns");
    tl_fmt_wait(buf, sizeof(buf), 1500, false);
    assert_string_equal(buf, "1.5us");
    tl_fmt_wait(buf, sizeof(buf), 999960, true);
    assert_string_equal(buf, "1.0ms"); /* not 1000.0µs */
    tl_fmt_wait(buf, sizeof(buf), 250000000, true);
    assert_string_equal(buf, "250.0ms");
    tl_fmt_wait(buf, sizeof(buf), S(61), true);
    assert_string_equal(buf, "61.00s");
    tl_fmt_wait(buf, sizeof(buf), -1, true);
    assert_string_equal(buf, "-");
}

static void test_model_sites_growth_and_history(void **state)
{
    const struct tl_model *m = &((struct fixture *)*state)->m;
    const struct tl_msite *grow = tl_vec_at(&m->sites, 0), *flat = tl_vec_at(&m->sites, 1);

    assert_int_equal(m->sites.len, 2);
    assert_string_equal(grow->function, "grow");
    assert_int_equal(grow->live_bytes, 300);
    assert_int_equal(grow->live_count, 3);
    assert_int_equal(grow->hist.n, 3);
    assert_true(grow->growth > 99.9 && grow->growth < 100.1);
    assert_int_equal(flat->live_bytes, 500);
    assert_true(flat->growth > -0.1 && flat->growth < 0.1);
}

static void test_model_findings_newest_first(void **state)
{
    const struct tl_model *m = &((struct fixture *)*state)->m;
    const int64_t want[] = {2, 3, 1, 4};

    assert_int_equal(m->newest.len, 4);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(tl_model_newest(m, i)->id, want[i]);
}

static const struct tl_finding *finding(const struct tl_model *m, int64_t id)
{
    for (size_t i = 0; i < m->run.findings.len; i++) {
        const struct tl_finding *f = tl_vec_at(&m->run.findings, i);

        if (f->id == id)
            return f;
    }
    fail_msg("no finding %lld", (long long)id);
    return NULL;
}

static void test_model_chain_of_inversion_and_deadlock(void **state)
{
    const struct tl_model *m = &((struct fixture *)*state)->m;
    char *inv = tl_model_chain(finding(m, 1)), *dl = tl_model_chain(finding(m, 2));

    assert_string_equal(inv, "T3 holds lock_a -> wants lock_b -> held by T4 -> wants lock_a");
    assert_string_equal(dl, "T3 holds lock_a -> wants lock_b -> held by T4 -> wants lock_a");
    free(inv);
    free(dl);
}

static void test_model_frames_and_edges_on_demand(void **state)
{
    struct fixture *f = *state;
    struct tl_vec v;
    const struct tl_medge *e;

    tl_vec_init(&v, sizeof(struct tl_frame));
    assert_int_equal(tl_model_frames(f->db, 10, &v), 0);
    assert_int_equal(v.len, 2);
    assert_string_equal(((struct tl_frame *)tl_vec_at(&v, 1))->function, "worker");
    assert_int_equal(((struct tl_frame *)tl_vec_at(&v, 1))->offset, 32);
    tl_model_frames_free(&v);
    assert_int_equal(tl_model_frames(f->db, TL_NULL, &v), 0);
    assert_int_equal(v.len, 0);
    tl_vec_init(&v, sizeof(struct tl_medge));
    assert_int_equal(tl_model_edges(f->db, 1, 1, &v), 0);
    assert_int_equal(v.len, 2);
    e = tl_vec_at(&v, 0);
    assert_string_equal(e->from, "lock_a");
    assert_string_equal(e->to, "lock_b");
    assert_int_equal(e->thread, 3);
    assert_string_equal(e->modes, "W->W");
    assert_int_equal(e->acquire_stack, 11);
    tl_model_edges_free(&v);
    assert_int_equal(tl_model_edges(f->db, 1, 3, &v), 0);
    assert_int_equal(v.len, 0);
    tl_model_edges_free(&v);
}

static void test_model_slope(void **state)
{
    struct tl_series s = {.n = 0};

    (void)state;
    assert_true(tl_model_slope(&s) == 0);
    s.n = 3;
    s.t[0] = 0, s.t[1] = 1, s.t[2] = 2;
    s.v[0] = 10, s.v[1] = 8, s.v[2] = 6;
    assert_true(tl_model_slope(&s) > -2.01 && tl_model_slope(&s) < -1.99);
    s.t[1] = s.t[2] = 0;
    assert_true(tl_model_slope(&s) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_model_overview_latest_and_rates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_overview_collector, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_thread_states_from_findings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_resolved_deadlock_leaves_threads_running, setup,
                                        teardown),
        cmocka_unit_test(test_model_thread_state_rows),
        cmocka_unit_test(test_model_ended_process_main_thread_exits),
        cmocka_unit_test(test_model_empty_database),
        cmocka_unit_test_setup_teardown(test_model_locks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_locks_sorted_by_wait, setup, teardown),
        cmocka_unit_test(test_model_wait_format),
        cmocka_unit_test_setup_teardown(test_model_sites_growth_and_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_findings_newest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_chain_of_inversion_and_deadlock, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_model_frames_and_edges_on_demand, setup, teardown),
        cmocka_unit_test(test_model_slope),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
