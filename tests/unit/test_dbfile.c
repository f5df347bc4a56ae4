/* test_dbfile.c - agent/dbfile.c: a deleted or replaced database file is noticed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dbfile.h"

static char dir[] = "/tmp/tl-test-dbfile-XXXXXX";

static void path_in_dir(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", dir, name);
}

static void touch(const char *path)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs("x", f);
    assert_int_equal(fclose(f), 0);
}

static void test_dbfile_nothing_remembered_is_fine(void **state)
{
    (void)state;
    assert_int_not_equal(tl_dbfile_remember("/nonexistent/dir/run.db"), 0);
    assert_null(tl_dbfile_check());
}

static void test_dbfile_same_file_is_fine(void **state)
{
    char db[256];

    (void)state;
    path_in_dir(db, sizeof db, "same.db");
    touch(db);
    assert_int_equal(tl_dbfile_remember(db), 0);
    assert_null(tl_dbfile_check());
    touch(db); /* rewritten in place: still the same inode */
    assert_null(tl_dbfile_check());
    unlink(db);
}

static void test_dbfile_deleted_is_noticed(void **state)
{
    char db[256];

    (void)state;
    path_in_dir(db, sizeof db, "deleted.db");
    touch(db);
    assert_int_equal(tl_dbfile_remember(db), 0);
    assert_int_equal(unlink(db), 0);
    assert_string_equal(tl_dbfile_check(), "deleted");
}

static void test_dbfile_replaced_is_noticed(void **state)
{
    char db[256], other[256];

    (void)state;
    path_in_dir(db, sizeof db, "replaced.db");
    path_in_dir(other, sizeof other, "other.db");
    touch(db);
    touch(other);
    assert_int_equal(tl_dbfile_remember(db), 0);
    assert_int_equal(rename(other, db), 0);
    assert_string_equal(tl_dbfile_check(), "replaced");
    unlink(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dbfile_nothing_remembered_is_fine),
        cmocka_unit_test(test_dbfile_same_file_is_fine),
        cmocka_unit_test(test_dbfile_deleted_is_noticed),
        cmocka_unit_test(test_dbfile_replaced_is_noticed),
    };
    int failed;

    if (!mkdtemp(dir))
        return 1;
    failed = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir(dir);
    return failed;
}
