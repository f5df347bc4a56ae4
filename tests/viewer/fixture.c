/*
 * fixture.c - writes the databases the viewer tests read, with the agent's own
 * schema text (TL_SCHEMA_SQL) and the row relations the README documents.
 *
 *   tl_viewer_fixture SCENARIO PATH
 *
 * Scenarios are listed in `scenarios[]` at the bottom. "hold" keeps the
 * database open in WAL mode with an uncommitted write transaction, prints
 * "ready" and waits for EOF on stdin, so a test can run the viewer against a
 * database the "agent" is writing. Exits 0, or 1 with a message on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "schema.h"

/* Named columns: a column added to `finding` cannot shift these rows. */
#define FINDING_COLS "(id, proc, kind, severity, summary, t_ns, resolved_ns) "

#define STR2(x) #x
#define STR(x) STR2(x)

/* Rows name their columns, so a column the agent adds cannot shift them. */
#define LOCK_COLS                                                                          \
    "proc, id, addr, kind, name, first_stack, first_thread, created_ns, destroyed_ns,"   \
    " acquisitions, contentions, wait_ns, wait_max_ns"

static void sql(sqlite3 *db, const char *text)
{
    char *err = NULL;

    if (sqlite3_exec(db, text, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "tl_viewer_fixture: %s\n  in: %s\n", err, text);
        exit(1);
    }
}

static void schema(sqlite3 *db, int version, const char *app)
{
    char pragma[64];

    sql(db, TL_SCHEMA_SQL);
    snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version);
    sql(db, pragma);
    if (app) {
        char *row = sqlite3_mprintf("INSERT INTO meta VALUES('app', %Q)", app);

        sql(db, row);
        sqlite3_free(row);
    }
}

static void clean(sqlite3 *db)
{
    schema(db, TL_SCHEMA_VERSION, TL_SCHEMA_APP);
    sql(db, "INSERT INTO process(id, pid, ppid, exe, cmdline, start_ns, end_ns, exit_status, end_reason) VALUES(1, 1234, 1, '/usr/bin/clean', 'clean', 100, 200, 0,"
            " 'exit');"
            "INSERT INTO thread VALUES(1, 1, 1234, 'clean', NULL, NULL, 100, 200, 'exit');");
}

/*
 * What the agent cost, in real units: a process that ran 4 s (its collector
 * busy 100 ms in all, 3 MiB at most), one attached to 2 s after its start,
 * and one still running.
 */
static void costly(sqlite3 *db)
{
    schema(db, TL_SCHEMA_VERSION, TL_SCHEMA_APP);
    sql(db,
        "INSERT INTO process(id, pid, ppid, exe, cmdline, start_ns, end_ns, exit_status, end_reason,"
        " attach_ns) VALUES(1, 500, 1, '/usr/bin/srv', 'srv', 1000000000, 5000000000, 0, 'exit', NULL),"
        " (2, 501, 1, '/usr/bin/srv', 'srv', 1000000000, 5000000000, 0, 'exit', 3000000000),"
        " (3, 502, 1, '/usr/bin/srv', 'srv', 1000000000, NULL, NULL, NULL, NULL);"
        "INSERT INTO sample(proc, t_ns, tick_ns, agent_bytes) VALUES"
        " (1, 2000000000, 30000000, 1048576), (1, 3000000000, 60000000, 3145728),"
        " (1, 4000000000, 10000000, 2097152), (2, 4000000000, 5000000, 4096),"
        " (3, 2000000000, 750, 8192);");
}

/* Two processes; findings inserted in id order, which is not severity order. */
static void abba(sqlite3 *db)
{
    schema(db, TL_SCHEMA_VERSION, TL_SCHEMA_APP);
    sql(db,
        "INSERT INTO process(id, pid, ppid, exe, cmdline, start_ns, end_ns, exit_status, end_reason) VALUES(1, 4242, 1, '/opt/demo/abba', 'abba', 100, 200, 0, 'exit');"
        "INSERT INTO process(id, pid, ppid, exe, cmdline, start_ns, end_ns, exit_status, end_reason) VALUES(2, 4243, 4242, '/opt/demo/abba', 'abba', 150, NULL, NULL,"
        " NULL);"
        "INSERT INTO sample(proc, t_ns, tick_ns, agent_bytes)"
        " VALUES(1, 120, 0, 4096), (1, 150, 2500, 12288), (1, 200, 700, 8192);"
        "INSERT INTO thread VALUES(1, 1, 4242, 'abba', NULL, NULL, 100, 200, 'exit');"
        "INSERT INTO thread VALUES(1, 2, 5002, 'worker-a', 1, 14, 101, 150, 'join');"
        "INSERT INTO thread VALUES(1, 3, 5003, 'worker-b', 1, 14, 102, 150, 'join');"
        "INSERT INTO thread VALUES(1, 4, 5004, NULL, 1, 14, 103, 140, 'return');"
        "INSERT INTO lock(" LOCK_COLS ") VALUES"
        " (1, 1, 0x55d0c0ffee00, 'mutex', 'lock_a', 10, 2, 101, NULL, 5, 0, 0, 0),"
        " (1, 2, 0x55d0c0ffee40, 'mutex', 'lock_b', 11, 2, 101, NULL, 5, 1, 1500000, 1500000),"
        " (1, 3, 0x7f00aa00, 'rwlock', NULL, 15, 2, 101, NULL, 1, 0, 0, 0);"
        "INSERT INTO lock_edge VALUES(1, 1, 1, 2, 2, 10, 11, 110, 1, NULL, 'W->W');"
        "INSERT INTO lock_edge VALUES(1, 2, 2, 1, 3, 12, 13, 120, 1, NULL, 'W->W');"
        "INSERT INTO stack VALUES(10, 1010, 2), (11, 1011, 2), (12, 1012, 2), (13, 1013, 2),"
        " (14, 1014, 2), (15, 1015, 2), (16, 1016, 2);"
        /* frames inserted in reverse idx order: the viewer must sort them */
        "INSERT INTO frame VALUES"
        " (10, 1, '/lib/x86_64-linux-gnu/libc.so.6', 0x89134, 'start_thread'),"
        " (10, 0, '/opt/demo/abba', 0x1200, 'thread_a'),"
        " (11, 1, '/lib/x86_64-linux-gnu/libc.so.6', 0x89134, 'start_thread'),"
        " (11, 0, '/opt/demo/abba', 0x1234, 'thread_a'),"
        " (12, 1, '/lib/x86_64-linux-gnu/libc.so.6', 0x89134, 'start_thread'),"
        " (12, 0, '/opt/demo/abba', 0x1300, 'thread_b'),"
        " (13, 1, '/lib/x86_64-linux-gnu/libc.so.6', 0x89134, 'start_thread'),"
        " (13, 0, '/opt/demo/abba', 0x1334, 'thread_b'),"
        " (14, 1, '/opt/demo/abba', 0x1500, 'main'),"
        " (14, 0, '/usr/lib/libthreadlens.so', 0x500, 'pthread_create'),"
        " (15, 1, '/opt/demo/abba', 0x1510, 'main'),"
        " (15, 0, '/opt/demo/abba', 0x1600, 'unlock_twice'),"
        " (16, 1, '/opt/demo/abba', 0x1710, 'grow'),"
        " (16, 0, '/opt/demo/abba', 0x1700, NULL);"
        "INSERT INTO finding" FINDING_COLS "VALUES(1, 1, 'lock-order-inversion', 'error',"
        " 'lock order inversion: lock_a -> lock_b -> lock_a by 2 threads', 130, NULL);"
        "INSERT INTO finding_item VALUES(1, 0, 'edge', 2, NULL, 1, NULL, NULL),"
        " (1, 1, 'edge', 3, NULL, 2, NULL, NULL);"
        "INSERT INTO finding" FINDING_COLS "VALUES(2, 1, 'thread-leak', 'warning',"
        " 'thread T4 finished but was never joined or detached', 190, NULL);"
        "INSERT INTO finding_item VALUES(2, 0, 'stack', NULL, NULL, NULL, 14, 'created'),"
        " (2, 1, 'thread', 4, NULL, NULL, NULL, 'zombie');"
        "INSERT INTO finding" FINDING_COLS "VALUES(3, 1, 'lock-misuse', 'error',"
        " 'unlock of rwlock 0x7f00aa00 that T2 does not hold', 140, NULL);"
        "INSERT INTO finding_item VALUES(3, 0, 'thread', 2, NULL, NULL, NULL, NULL),"
        " (3, 1, 'lock', NULL, 3, NULL, NULL, NULL),"
        " (3, 2, 'stack', 2, 3, NULL, 15, 'site'),"
        " (3, 3, 'stack', 2, 3, NULL, NULL, 'acquired');"
        "INSERT INTO finding" FINDING_COLS "VALUES(4, 2, 'memory-growth', 'info',"
        " 'live bytes allocated at grow() rise by 1.2 MiB/s', 180, NULL);"
        "INSERT INTO finding_item VALUES(4, 0, 'stack', NULL, NULL, NULL, 16, 'site');");
}

static void noerror(sqlite3 *db)
{
    abba(db);
    sql(db, "DELETE FROM finding_item WHERE finding IN"
            " (SELECT id FROM finding WHERE severity = 'error');"
            "DELETE FROM finding WHERE severity = 'error';");
}

/* Strings that need escaping, valid UTF-8, and bytes that are not UTF-8. */
static void escape(sqlite3 *db)
{
    schema(db, TL_SCHEMA_VERSION, TL_SCHEMA_APP);
    sql(db,
        "INSERT INTO process(id, pid, ppid, exe, cmdline, start_ns, end_ns, exit_status, end_reason) VALUES(1, 77, NULL, '/tmp/we\"ird\\dir/prog', NULL, 1, 2, 3,"
        " 'exit');"
        "INSERT INTO thread VALUES(1, 2, 78, 'q\"b\\s' || char(10, 9, 1), NULL, NULL, 1, NULL,"
        " NULL);"
        "INSERT INTO thread VALUES(1, 3, 79, 'w' || char(246) || 'rker ' || char(10003), NULL,"
        " NULL, 1, NULL, NULL);"
        "INSERT INTO thread VALUES(1, 4, 80, CAST(X'626164FFFE' AS TEXT), NULL, NULL, 1, NULL,"
        " NULL);"
        "INSERT INTO thread VALUES(1, 5, 81, CAST(X'6162E282' AS TEXT), NULL, NULL, 1, NULL,"
        " NULL);"
        "INSERT INTO lock(proc, id, addr, kind, name) VALUES(1, 1, 4096, 'mutex', 'lock\"q');"
        "INSERT INTO finding" FINDING_COLS "VALUES(1, 1, 'thread-growth', 'warning',"
        " 'line1' || char(10) || 'line2 ' || char(27) || '[31mred', 5, NULL);"
        "INSERT INTO finding_item VALUES(1, 0, 'thread', 2, NULL, NULL, NULL, NULL),"
        " (1, 1, 'thread', 3, NULL, NULL, NULL, NULL),"
        " (1, 2, 'thread', 4, NULL, NULL, NULL, NULL),"
        " (1, 3, 'thread', 5, NULL, NULL, NULL, NULL),"
        " (1, 4, 'lock', NULL, 1, NULL, NULL, NULL);");
}

/* Items whose rows are missing: the viewer skips or shows them, never crashes. */
static void dangling(sqlite3 *db)
{
    schema(db, TL_SCHEMA_VERSION, TL_SCHEMA_APP);
    sql(db, "INSERT INTO process(id, pid, ppid, exe, cmdline, start_ns, end_ns, exit_status, end_reason) VALUES(1, 90, 1, NULL, NULL, 1, NULL, NULL, NULL);"
            "INSERT INTO finding" FINDING_COLS
            "VALUES(1, 1, 'deadlock', 'error', 'rows are missing', 5,"
            " NULL);"
            "INSERT INTO finding_item VALUES(1, 0, 'edge', 77, NULL, 99, NULL, NULL),"
            " (1, 1, 'thread', 77, NULL, NULL, NULL, NULL),"
            " (1, 2, 'lock', NULL, 55, NULL, NULL, NULL),"
            " (1, 3, 'stack', NULL, NULL, NULL, 12345, 'site'),"
            " (1, 4, 'stack', NULL, NULL, NULL, NULL, 'created');");
}

/* Rows the deadlock, blocked and leak scenarios share: one process, four threads, three locks. */
static void threads_base(sqlite3 *db)
{
    schema(db, TL_SCHEMA_VERSION, TL_SCHEMA_APP);
    sql(db,
        "INSERT INTO process(id, pid, ppid, exe, cmdline, start_ns, end_ns, exit_status, end_reason) VALUES(1, 4242, 1, '/opt/demo/dl', 'dl', 100, 200, 0, 'exit');"
        "INSERT INTO thread VALUES(1, 1, 4242, 'dl', NULL, NULL, 100, 200, 'exit');"
        "INSERT INTO thread VALUES(1, 2, 5002, 'worker-a', 1, 40, 101, NULL, NULL);"
        "INSERT INTO thread VALUES(1, 3, 5003, 'worker-b', 1, 40, 102, NULL, NULL);"
        "INSERT INTO thread VALUES(1, 4, 5004, NULL, 1, 40, 103, 150, 'return');"
        "INSERT INTO lock(" LOCK_COLS ") VALUES"
        " (1, 1, 0x55d0c0ffee00, 'mutex', 'lock_a', 21, 2, 101, NULL, 3, 1, 2500, 2500),"
        " (1, 2, 0x55d0c0ffee40, 'mutex', 'lock_b', 23, 3, 101, NULL, 3, 1, 4000000000,"
        " 4000000000),"
        " (1, 3, 0x55d0c0ffee80, 'mutex', 'lock_c', 25, 1, 101, NULL, 1, 1, 120000, 120000);"
        "INSERT INTO stack VALUES(20, 1020, 2), (21, 1021, 2), (22, 1022, 2), (23, 1023, 2),"
        " (24, 1024, 2), (25, 1025, 1), (26, 1026, 2), (40, 1040, 2), (41, 1041, 3);"
        "INSERT INTO frame VALUES"
        " (20, 0, '/opt/demo/dl', 0x1240, 'thread_a'),"
        " (20, 1, '/lib/x86_64-linux-gnu/libc.so.6', 0x89134, 'start_thread'),"
        " (21, 0, '/opt/demo/dl', 0x1200, 'thread_a'),"
        " (21, 1, '/lib/x86_64-linux-gnu/libc.so.6', 0x89134, 'start_thread'),"
        " (22, 0, '/opt/demo/dl', 0x1340, 'thread_b'),"
        " (22, 1, '/lib/x86_64-linux-gnu/libc.so.6', 0x89134, 'start_thread'),"
        " (23, 0, '/opt/demo/dl', 0x1300, 'thread_b'),"
        " (23, 1, '/lib/x86_64-linux-gnu/libc.so.6', 0x89134, 'start_thread'),"
        " (24, 0, '/lib/x86_64-linux-gnu/libc.so.6', 0x8a1f0, 'pthread_join'),"
        " (24, 1, '/opt/demo/dl', 0x1550, 'main'),"
        " (25, 0, '/opt/demo/dl', 0x1540, 'main'),"
        " (26, 0, '/opt/demo/dl', 0x1440, 'thread_c'),"
        " (26, 1, '/lib/x86_64-linux-gnu/libc.so.6', 0x89134, 'start_thread'),"
        " (40, 0, '/opt/demo/dl', 0x1700, 'spawn_pool'),"
        " (40, 1, '/opt/demo/dl', 0x1800, 'main'),"
        " (41, 0, '/lib/x86_64-linux-gnu/libc.so.6', 0x91e10, NULL),"
        " (41, 1, '/opt/demo/dl', 0x1820, 'worker_loop'),"
        " (41, 2, '/lib/x86_64-linux-gnu/libc.so.6', 0x89134, 'start_thread');");
}

/*
 * Two deadlocks, in the agent's item layout: T2 and T3 each hold the lock
 * the other waits for (items inserted out of seq order); T1 holds lock_c and
 * joins T4, which waits for lock_c.
 */
static void deadlock(sqlite3 *db)
{
    threads_base(db);
    sql(db,
        "INSERT INTO finding" FINDING_COLS "VALUES(1, 1, 'deadlock', 'error',"
        " 'deadlock: T2 and T3 wait for each other', 1000000000000, NULL);"
        "INSERT INTO finding_item VALUES"
        " (1, 5, 'thread', 3, NULL, NULL, NULL, NULL),"
        " (1, 0, 'thread', 2, NULL, NULL, NULL, NULL),"
        " (1, 1, 'lock', NULL, 2, NULL, NULL, 'waits'),"
        " (1, 2, 'lock', NULL, 1, NULL, NULL, 'holds'),"
        " (1, 3, 'stack', 2, 2, NULL, 20, 'blocked'),"
        " (1, 4, 'stack', 2, 1, NULL, 21, 'acquired'),"
        " (1, 6, 'lock', NULL, 1, NULL, NULL, 'waits'),"
        " (1, 7, 'lock', NULL, 2, NULL, NULL, 'holds'),"
        " (1, 8, 'stack', 3, 1, NULL, 22, 'blocked'),"
        " (1, 9, 'stack', 3, 2, NULL, 23, 'acquired');"
        "INSERT INTO finding" FINDING_COLS "VALUES(2, 1, 'deadlock', 'error',"
        " 'deadlock: T1 joins T4, which waits for lock_c held by T1', 1000000000001, NULL);"
        "INSERT INTO finding_item VALUES"
        " (2, 0, 'thread', 1, NULL, NULL, NULL, NULL),"
        " (2, 1, 'thread', 4, NULL, NULL, NULL, 'joins'),"
        " (2, 2, 'lock', NULL, 3, NULL, NULL, 'holds'),"
        " (2, 3, 'stack', 1, NULL, NULL, 24, 'blocked'),"
        " (2, 4, 'stack', 1, 3, NULL, 25, 'acquired'),"
        " (2, 5, 'thread', 4, NULL, NULL, NULL, NULL),"
        " (2, 6, 'lock', NULL, 3, NULL, NULL, 'waits'),"
        " (2, 7, 'stack', 4, 3, NULL, 26, 'blocked');");
}

/* The same, but a timed lock broke both cycles 1.46 s and 3 ms after they were found. */
static void deadlock_resolved(sqlite3 *db)
{
    deadlock(db);
    sql(db, "UPDATE finding SET resolved_ns = 1001460000000 WHERE id = 1;"
            "UPDATE finding SET resolved_ns = 1000003000001 WHERE id = 2;");
}

/* A thread blocked on a mutex (warning), one still blocked on a condition at exit (info). */
static void blocked(sqlite3 *db)
{
    threads_base(db);
    sql(db,
        "INSERT INTO finding" FINDING_COLS "VALUES(1, 1, 'blocked-thread', 'info',"
        " 'thread T3 was still waiting on a condition variable at exit', 190, NULL);"
        "INSERT INTO finding_item VALUES"
        " (1, 0, 'thread', 3, NULL, NULL, NULL, 'cond'),"
        " (1, 1, 'stack', 3, NULL, NULL, 41, 'blocked');"
        "INSERT INTO finding" FINDING_COLS "VALUES(2, 1, 'blocked-thread', 'warning',"
        " 'thread T2 blocked on mutex lock_b for 5.0 s', 150, NULL);"
        "INSERT INTO finding_item VALUES"
        " (2, 0, 'thread', 2, NULL, NULL, NULL, 'mutex'),"
        " (2, 1, 'lock', NULL, 2, NULL, NULL, 'waits'),"
        " (2, 2, 'stack', 2, 2, NULL, 20, 'blocked');");
}

/* Three threads from one creation site: one finished, one blocked, one running. */
static void leak(sqlite3 *db)
{
    threads_base(db);
    sql(db,
        "INSERT INTO finding" FINDING_COLS "VALUES(1, 1, 'thread-leak', 'warning',"
        " '3 threads created at spawn_pool were never joined or detached', 200, NULL);"
        "INSERT INTO finding_item VALUES"
        " (1, 0, 'stack', NULL, NULL, NULL, 40, 'created'),"
        " (1, 1, 'thread', 4, NULL, NULL, NULL, 'zombie'),"
        " (1, 2, 'thread', 2, NULL, NULL, NULL, 'running'),"
        " (1, 3, 'stack', 2, NULL, NULL, 41, 'blocked'),"
        " (1, 4, 'thread', 3, NULL, NULL, NULL, 'running');");
}

static void nometa(sqlite3 *db)
{
    schema(db, TL_SCHEMA_VERSION, NULL);
}

static void notables(sqlite3 *db)
{
    sql(db, "CREATE TABLE other(x); PRAGMA user_version = " STR(TL_SCHEMA_VERSION));
}

static void wrongapp(sqlite3 *db)
{
    schema(db, TL_SCHEMA_VERSION, "somethingelse");
}

static void newer(sqlite3 *db)
{
    char pragma[64];

    clean(db);
    snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", TL_SCHEMA_VERSION + 1);
    sql(db, pragma);
}

/* A database of the previous schema version. */
static void older(sqlite3 *db)
{
    char pragma[64];

    clean(db);
    snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", TL_SCHEMA_VERSION - 1);
    sql(db, pragma);
}

static void unversioned(sqlite3 *db)
{
    clean(db);
    sql(db, "PRAGMA user_version = 0");
}

static void wal(sqlite3 *db)
{
    sql(db, "PRAGMA journal_mode = WAL");
    abba(db);
}

/*
 * Like the agent mid-run: committed rows (one warning) sit in the WAL, and a
 * write transaction adding an error finding stays open until stdin closes.
 */
static void hold(sqlite3 *db)
{
    char buf[64];

    sql(db, "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0");
    clean(db);
    sql(db, "INSERT INTO finding" FINDING_COLS
            "VALUES(1, 1, 'thread-growth', 'warning', 'committed', 1,"
            " NULL)");
    sql(db, "BEGIN IMMEDIATE;"
            "INSERT INTO finding" FINDING_COLS
            "VALUES(2, 1, 'deadlock', 'error', 'not committed', 2, NULL)");
    printf("ready\n");
    fflush(stdout);
    while (fgets(buf, sizeof(buf), stdin))
        ;
    sql(db, "ROLLBACK");
}

static const struct {
    const char *name;
    void (*make)(sqlite3 *db);
} scenarios[] = {
    {"clean", clean},
    {"abba", abba},
    {"costly", costly},
    {"noerror", noerror},
    {"escape", escape},
    {"dangling", dangling},
    {"deadlock", deadlock},
    {"deadlock_resolved", deadlock_resolved},
    {"blocked", blocked},
    {"leak", leak},
    {"nometa", nometa},
    {"notables", notables},
    {"wrongapp", wrongapp},
    {"newer", newer},
    {"older", older},
    {"unversioned", unversioned},
    {"wal", wal},
    {"hold", hold},
};

int main(int argc, char **argv)
{
    sqlite3 *db;

    if (argc != 3) {
        fprintf(stderr, "usage: tl_viewer_fixture SCENARIO PATH\n");
        return 1;
    }
    for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
        if (strcmp(argv[1], scenarios[i].name) != 0)
            continue;
        remove(argv[2]);
        if (sqlite3_open(argv[2], &db) != SQLITE_OK) {
            fprintf(stderr, "tl_viewer_fixture: cannot create %s\n", argv[2]);
            return 1;
        }
        scenarios[i].make(db);
        return sqlite3_close(db) == SQLITE_OK ? 0 : 1;
    }
    fprintf(stderr, "tl_viewer_fixture: unknown scenario %s\n", argv[1]);
    return 1;
}
