/* test_suppress.c - suppression files: parsing, kinds, LSan's leak:, matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "schema.h"
#include "suppress.h"

static char path[64];

static struct tl_suppressions *load_text(const char *text, char *err, size_t errsize)
{
    snprintf(path, sizeof path, "/tmp/tl-supp-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct tl_suppressions *s = tl_supp_load(path, err, errsize);
    unlink(path);
    return s;
}

static void test_suppress_rules_and_comments(void **state)
{
    (void)state;
    char err[128] = "";
    struct tl_suppressions *s =
        load_text("# a comment\n\n  deadlock : worker_* \nleak:libfoo.so  # trailing\n", err,
                  sizeof err);
    assert_non_null(s);
    assert_int_equal(tl_supp_count(s), 2);
    const char *fns[] = {"main", "worker_loop"}, *mods[] = {"/bin/prog", "/bin/prog"};
    assert_true(tl_supp_match(s, TL_KIND_DEADLOCK, fns, mods, 2));
    /* The rule's kind must be the finding's. */
    assert_false(tl_supp_match(s, TL_KIND_LOCK_ORDER, fns, mods, 2));
    /* leak: is memory-leak; a module matches by its file name too. */
    const char *lf[] = {NULL}, *lm[] = {"/usr/lib/libfoo.so"};
    assert_true(tl_supp_match(s, TL_KIND_MEMORY_LEAK, lf, lm, 1));
    const char *other[] = {"/usr/lib/libbar.so"};
    assert_false(tl_supp_match(s, TL_KIND_MEMORY_LEAK, lf, other, 1));
    tl_supp_free(s);
}

static void test_suppress_bad_lines_rejected(void **state)
{
    (void)state;
    char err[128] = "";
    assert_null(load_text("deadlock:ok\nnot a rule\n", err, sizeof err));
    assert_non_null(strstr(err, "line 2"));
    assert_null(load_text("data-race:foo\n", err, sizeof err)); /* not a threadlens kind */
    assert_null(load_text("deadlock:\n", err, sizeof err));      /* no pattern */
    assert_null(tl_supp_load("/nonexistent/supp", err, sizeof err));
    assert_non_null(strstr(err, "cannot read"));
}

static void test_suppress_nothing_matches_without_rules(void **state)
{
    (void)state;
    const char *fns[] = {"f"}, *mods[] = {"/m"};
    assert_false(tl_supp_match(NULL, TL_KIND_DEADLOCK, fns, mods, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suppress_rules_and_comments),
        cmocka_unit_test(test_suppress_bad_lines_rejected),
        cmocka_unit_test(test_suppress_nothing_matches_without_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
