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

#define STR2(x) #x
#define STR(x) STR2(x)

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
    sql(db, "INSERT INTO process VALUES(1, 1234, 1, '/usr/bin/clean', 'clean', 100, 200, 0,"
            " 'exit');"
            "INSERT INTO thread VALUES(1, 1, 1234, 'clean', NULL, NULL, 100, 200, 'exit');");
}

/* Two processes; findings inserted in id order, which is not severity order. */
static void abba(sqlite3 *db)
{
    schema(db, TL_SCHEMA_VERSION, TL_SCHEMA_APP);
    sql(db,
        "INSERT INTO process VALUES(1, 4242, 1, '/opt/demo/abba', 'abba', 100, 200, 0, 'exit');"
        "INSERT INTO process VALUES(2, 4243, 4242, '/opt/demo/abba', 'abba', 150, NULL, NULL,"
        " NULL);"
        "INSERT INTO thread VALUES(1, 1, 4242, 'abba', NULL, NULL, 100, 200, 'exit');"
        "INSERT INTO thread VALUES(1, 2, 5002, 'worker-a', 1, 14, 101, 150, 'join');"
        "INSERT INTO thread VALUES(1, 3, 5003, 'worker-b', 1, 14, 102, 150, 'join');"
        "INSERT INTO thread VALUES(1, 4, 5004, NULL, 1, 14, 103, 140, 'return');"
        "INSERT INTO lock VALUES(1, 1, 0x55d0c0ffee00, 'mutex', 'lock_a', 10, 2, 101, NULL, 5,"
        " 0);"
        "INSERT INTO lock VALUES(1, 2, 0x55d0c0ffee40, 'mutex', 'lock_b', 11, 2, 101, NULL, 5,"
        " 1);"
        "INSERT INTO lock VALUES(1, 3, 0x7f00aa00, 'rwlock', NULL, 15, 2, 101, NULL, 1, 0);"
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
        "INSERT INTO finding VALUES(1, 1, 'lock-order-inversion', 'error',"
        " 'lock order inversion: lock_a -> lock_b -> lock_a by 2 threads', 130);"
        "INSERT INTO finding_item VALUES(1, 0, 'edge', 2, NULL, 1, NULL, NULL),"
        " (1, 1, 'edge', 3, NULL, 2, NULL, NULL);"
        "INSERT INTO finding VALUES(2, 1, 'thread-leak', 'warning',"
        " 'thread T4 finished but was never joined or detached', 190);"
        "INSERT INTO finding_item VALUES(2, 0, 'thread', 4, NULL, NULL, NULL, NULL),"
        " (2, 1, 'stack', 4, NULL, NULL, 14, 'created');"
        "INSERT INTO finding VALUES(3, 1, 'lock-misuse', 'error',"
        " 'unlock of rwlock 0x7f00aa00 that T2 does not hold', 140);"
        "INSERT INTO finding_item VALUES(3, 0, 'thread', 2, NULL, NULL, NULL, NULL),"
        " (3, 1, 'lock', NULL, 3, NULL, NULL, NULL),"
        " (3, 2, 'stack', 2, 3, NULL, 15, 'site'),"
        " (3, 3, 'stack', 2, 3, NULL, NULL, 'acquired');"
        "INSERT INTO finding VALUES(4, 2, 'memory-growth', 'info',"
        " 'live bytes allocated at grow() rise by 1.2 MiB/s', 180);"
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
        "INSERT INTO process VALUES(1, 77, NULL, '/tmp/we\"ird\\dir/prog', NULL, 1, 2, 3,"
        " 'exit');"
        "INSERT INTO thread VALUES(1, 2, 78, 'q\"b\\s' || char(10, 9, 1), NULL, NULL, 1, NULL,"
        " NULL);"
        "INSERT INTO thread VALUES(1, 3, 79, 'w' || char(246) || 'rker ' || char(10003), NULL,"
        " NULL, 1, NULL, NULL);"
        "INSERT INTO thread VALUES(1, 4, 80, CAST(X'626164FFFE' AS TEXT), NULL, NULL, 1, NULL,"
        " NULL);"
        "INSERT INTO thread VALUES(1, 5, 81, CAST(X'6162E282' AS TEXT), NULL, NULL, 1, NULL,"
        " NULL);"
        "INSERT INTO lock VALUES(1, 1, 4096, 'mutex', 'lock\"q', NULL, NULL, NULL, NULL, NULL,"
        " NULL);"
        "INSERT INTO finding VALUES(1, 1, 'thread-leak', 'warning',"
        " 'line1' || char(10) || 'line2 ' || char(27) || '[31mred', 5);"
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
    sql(db, "INSERT INTO process VALUES(1, 90, 1, NULL, NULL, 1, NULL, NULL, NULL);"
            "INSERT INTO finding VALUES(1, 1, 'deadlock', 'error', 'rows are missing', 5);"
            "INSERT INTO finding_item VALUES(1, 0, 'edge', 77, NULL, 99, NULL, NULL),"
            " (1, 1, 'thread', 77, NULL, NULL, NULL, NULL),"
            " (1, 2, 'lock', NULL, 55, NULL, NULL, NULL),"
            " (1, 3, 'stack', NULL, NULL, NULL, 12345, 'site'),"
            " (1, 4, 'stack', NULL, NULL, NULL, NULL, 'created');");
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

static void older(sqlite3 *db)
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
    sql(db, "INSERT INTO finding VALUES(1, 1, 'thread-growth', 'warning', 'committed', 1)");
    sql(db, "BEGIN IMMEDIATE;"
            "INSERT INTO finding VALUES(2, 1, 'deadlock', 'error', 'not committed', 2)");
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
    {"clean", clean},       {"abba", abba},         {"noerror", noerror},
    {"escape", escape},     {"dangling", dangling}, {"nometa", nometa},
    {"notables", notables}, {"wrongapp", wrongapp}, {"newer", newer},
    {"older", older},       {"wal", wal},           {"hold", hold},
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
