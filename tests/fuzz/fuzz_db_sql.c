/*
 * fuzz_db_sql.c - libFuzzer harness for threadlens-top's reading of valid
 * SQLite files with hostile contents. The input is SQL run against a copy of
 * a well-formed threadlens database ($TL_FUZZ_TEMPLATE, written by the viewer
 * tests' fixture): it can drop tables, put text where numbers belong, NULLs,
 * huge strings and numbers, dangling ids, another user_version. The result is
 * then read as threadlens-top reads it (viewer_load.h).
 *
 * The SQL is confined: ATTACH is denied (no other files), VACUUM is skipped
 * (VACUUM INTO writes files), values are capped at 16 KiB and statements are
 * interrupted after a bounded amount of work or time, so an input cannot hang
 * the fuzzer or fill the disk.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sqlite3.h>

#include "viewer_load.h"

/*
 * SQLite's string builder (printf, group_concat) doubles its buffer only while
 * the result stays under half the length limit; above that it grows by the
 * bytes appended, one realloc per character for printf('%.*c', n, 'x'), and
 * ASan's realloc always copies. The cost is quadratic in the limit and falls
 * inside one opcode, where the progress handler cannot interrupt it: at 2 MiB
 * one statement ran for minutes. 16 KiB is still wider than any column the
 * viewer draws, and longer than most C++ symbol names.
 */
#define MAX_VALUE_BYTES (16 << 10)
#define MAX_VM_STEPS 20000 /* progress callbacks of 1000 opcodes each */
#define MAX_SQL_NS 2000000000LL

static char path[32];            /* the database each input edits */
static unsigned char *template_db; /* the well-formed database, in memory */
static size_t template_size;

static int load_template(void)
{
    const char *name = getenv("TL_FUZZ_TEMPLATE");
    FILE *f = name ? fopen(name, "rb") : NULL;
    long size;

    if (!f)
        return -1;
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0 ||
        !(template_db = malloc((size_t)size)) ||
        fread(template_db, 1, (size_t)size, f) != (size_t)size) {
        fclose(f);
        return -1;
    }
    template_size = (size_t)size;
    fclose(f);
    return tl_fuzz_temp_path(path, "fuzzsql");
}

static int deny_attach(void *unused, int action, const char *a, const char *b, const char *c,
                       const char *d)
{
    (void)unused, (void)a, (void)b, (void)c, (void)d;
    return action == SQLITE_ATTACH || action == SQLITE_DETACH ? SQLITE_DENY : SQLITE_OK;
}

struct budget {
    int steps;
    long long deadline_ns;
};

static long long now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int bounded(void *arg)
{
    struct budget *budget = arg;

    return ++budget->steps > MAX_VM_STEPS || now_ns() > budget->deadline_ns;
}

/* Writes the template to path and runs sql on it. Errors in sql are fine. */
static int make_db(const char *sql)
{
    FILE *f = fopen(path, "wb");
    sqlite3 *db = NULL;
    struct budget budget = {0, now_ns() + MAX_SQL_NS};

    if (!f || fwrite(template_db, 1, template_size, f) != template_size) {
        if (f)
            fclose(f);
        return -1;
    }
    if (fclose(f) != 0 || sqlite3_open(path, &db) != SQLITE_OK) {
        sqlite3_close(db);
        return -1;
    }
    sqlite3_limit(db, SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES);
    sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
    sqlite3_set_authorizer(db, deny_attach, NULL);
    sqlite3_progress_handler(db, 1000, bounded, &budget);
    sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready = -1;
    char *sql;

    if (ready < 0)
        ready = load_template();
    if (ready != 0) {
        fprintf(stderr, "fuzz_db_sql: set TL_FUZZ_TEMPLATE to a threadlens database\n");
        abort();
    }
    sql = malloc(size + 1);
    if (!sql)
        return 0;
    memcpy(sql, data, size);
    sql[size] = '\0';
    tl_fuzz_unlink_side_files(path);
    if (!strcasestr(sql, "vacuum") && make_db(sql) == 0) {
        tl_fuzz_unlink_side_files(path);
        tl_fuzz_view(path);
    }
    free(sql);
    return 0;
}
