/*
 * test_schema_image.c - agent/schema_image.c and the build-time image: a new
 * file from the image is the database the schema's SQL creates (same
 * objects, version, meta row, WAL mode), and an existing file is left alone.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "schema.h"
#include "schema_image.h"

static char dir[] = "/tmp/tl-test-schema-image-XXXXXX";

static void path_in_dir(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", dir, name);
}

/* Every schema object as "type name: sql" lines, in name order. */
static char *schema_text(sqlite3 *db)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT group_concat(type || ' ' || name || ': ' || "
                                        "coalesce(sql, ''), char(10)) FROM "
                                        "(SELECT * FROM sqlite_master ORDER BY name)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char *text = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return text;
}

static const char *one_text(sqlite3 *db, const char *sql, char *out, size_t size)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
}

static void test_image_is_the_schema(void **state)
{
    (void)state;
    char path[256], buf[64];
    path_in_dir(path, sizeof path, "new.db");
    assert_int_equal(tl_schema_image_write(path), 0);

    sqlite3 *image, *made;
    assert_int_equal(sqlite3_open_v2(path, &image, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_string_equal(one_text(image, "PRAGMA integrity_check", buf, sizeof buf), "ok");
    assert_string_equal(one_text(image, "PRAGMA journal_mode", buf, sizeof buf), "wal");
    snprintf(path, sizeof path, "%d", TL_SCHEMA_VERSION);
    assert_string_equal(one_text(image, "PRAGMA user_version", buf, sizeof buf), path);
    assert_string_equal(one_text(image, "SELECT value FROM meta WHERE key = 'app'", buf,
                                 sizeof buf),
                        TL_SCHEMA_APP);

    assert_int_equal(sqlite3_open(":memory:", &made), SQLITE_OK);
    assert_int_equal(sqlite3_exec(made, TL_SCHEMA_SQL, NULL, NULL, NULL), SQLITE_OK);
    char *want = schema_text(made), *got = schema_text(image);
    assert_true(strlen(want) > 100);
    assert_string_equal(got, want);
    free(want);
    free(got);
    sqlite3_close(made);
    sqlite3_close(image);
}

static void test_existing_file_is_left_alone(void **state)
{
    (void)state;
    char path[256];
    path_in_dir(path, sizeof path, "existing.db");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("not ours", f);
    assert_int_equal(fclose(f), 0);

    assert_int_equal(tl_schema_image_write(path), -EEXIST);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_size, (off_t)strlen("not ours"));
}

static void test_missing_directory_leaves_nothing(void **state)
{
    (void)state;
    char path[256];
    path_in_dir(path, sizeof path, "no/such/dir.db");
    assert_int_equal(tl_schema_image_write(path), -ENOENT);
}

static int make_dir(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    const char *names[] = {"new.db", "new.db-wal", "new.db-shm", "existing.db"};
    char path[256];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        path_in_dir(path, sizeof path, names[i]);
        unlink(path);
    }
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_image_is_the_schema),
        cmocka_unit_test(test_existing_file_is_left_alone),
        cmocka_unit_test(test_missing_directory_leaves_nothing),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
