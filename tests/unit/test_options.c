/*
 * test_options.c - agent/options.c: THREADLENS_OPTIONS parsing. Every parse
 * starts over from the defaults, so cases need no reset.
 */
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "options.h"

static int setup_group(void **state)
{
    (void)state;
    tl_log_set_level(TL_LOG_QUIET); /* bad entries are logged by design */
    return 0;
}

static void assert_defaults(void)
{
    assert_string_equal(tl_options.db, "");
    assert_true(tl_options.interval == 1.0);
    assert_int_equal(tl_options.stacks, 24);
    assert_int_equal(tl_options.log, TL_LOG_ERROR);
}

static void test_options_defaults(void **state)
{
    (void)state;
    assert_int_equal(tl_options_parse(NULL), 0);
    assert_defaults();
}

static void test_options_all_keys_parsed(void **state)
{
    (void)state;
    assert_int_equal(tl_options_parse("interval=0.5:stacks=12:log=quiet:db=/tmp/x.db"), 0);
    assert_true(tl_options.interval == 0.5);
    assert_int_equal(tl_options.stacks, 12);
    assert_int_equal(tl_options.log, TL_LOG_QUIET);
    assert_string_equal(tl_options.db, "/tmp/x.db");

    assert_int_equal(tl_options_parse("log=debug"), 0);
    assert_int_equal(tl_options.log, TL_LOG_DEBUG);
    assert_int_equal(tl_options_parse("log=info:log=error"), 0); /* the last one wins */
    assert_int_equal(tl_options.log, TL_LOG_ERROR);
}

static void test_options_parse_starts_from_defaults(void **state)
{
    (void)state;
    assert_int_equal(tl_options_parse("interval=2:stacks=8:log=debug:db=a.db"), 0);
    assert_int_equal(tl_options_parse("stacks=9"), 0);
    assert_int_equal(tl_options.stacks, 9);
    assert_true(tl_options.interval == 1.0);
    assert_string_equal(tl_options.db, "");
    assert_int_equal(tl_options.log, TL_LOG_ERROR);
}

static void test_options_bad_value_keeps_default(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "interval=abc", "interval=", "interval=0", "interval=0.001", "interval=3601",
        "interval=1s", "interval=inf", "stacks=0", "stacks=65", "stacks=1.5",
        "stacks=-3", "stacks=12x", "stacks=", "log=verbose", "log=", "log=QUIET", "db=",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        print_message("  %s\n", bad[i]);
        assert_int_equal(tl_options_parse(bad[i]), 1);
        assert_defaults();
    }
    /* A bad entry does not spoil the good ones around it. */
    assert_int_equal(tl_options_parse("stacks=8:interval=zero:log=info"), 1);
    assert_int_equal(tl_options.stacks, 8);
    assert_true(tl_options.interval == 1.0);
    assert_int_equal(tl_options.log, TL_LOG_INFO);
    assert_int_equal(tl_options_parse("stacks=99:interval=-1:log=loud"), 3);
    assert_defaults();
}

/*
 * Found a bug (agent/options.c, parse_double): NaN passes the range check
 * (`d < lo || d > hi` is false for NaN), so "interval=nan" is accepted and
 * the collector's tick becomes (int64_t)(NaN * 1e9), undefined behaviour.
 */
static void test_options_nan_interval_rejected(void **state)
{
    (void)state;
    assert_int_equal(tl_options_parse("interval=nan"), 1);
    assert_false(isnan(tl_options.interval));
    assert_true(tl_options.interval == 1.0);
}

static void test_options_unknown_key_counted(void **state)
{
    (void)state;
    assert_int_equal(tl_options_parse("colour=red"), 1);
    assert_defaults();
    assert_int_equal(tl_options_parse("interval=0.5:bogus=1:stacks=8:Stacks=9"), 2);
    assert_true(tl_options.interval == 0.5);
    assert_int_equal(tl_options.stacks, 8);
}

static void test_options_entry_without_equals_counted(void **state)
{
    (void)state;
    assert_int_equal(tl_options_parse("interval"), 1);
    assert_defaults();
    assert_int_equal(tl_options_parse("=5"), 1); /* no key */
    assert_defaults();
    assert_int_equal(tl_options_parse("stacks=4:verbose:log=info"), 1);
    assert_int_equal(tl_options.stacks, 4);
    assert_int_equal(tl_options.log, TL_LOG_INFO);
}

static void test_options_empty_spec_fine(void **state)
{
    (void)state;
    assert_int_equal(tl_options_parse(""), 0);
    assert_defaults();
    assert_int_equal(tl_options_parse(":::"), 0);
    assert_defaults();
    assert_int_equal(tl_options_parse(":stacks=5::"), 0);
    assert_int_equal(tl_options.stacks, 5);
    /* A value may itself contain '=' (only the first one splits). */
    assert_int_equal(tl_options_parse("db=/tmp/a=b.db"), 0);
    assert_string_equal(tl_options.db, "/tmp/a=b.db");
}

static char *repeat(char c, size_t n, const char *prefix, const char *suffix)
{
    size_t lp = strlen(prefix), ls = strlen(suffix);
    char *s = malloc(lp + n + ls + 1);
    assert_non_null(s);
    memcpy(s, prefix, lp);
    memset(s + lp, c, n);
    memcpy(s + lp + n, suffix, ls + 1);
    return s;
}

static void test_options_long_value_rejected(void **state)
{
    (void)state;
    char *spec = repeat('a', 5000, "db=", "");
    assert_int_equal(tl_options_parse(spec), 1);
    assert_defaults();
    free(spec);

    /* Parsing goes on after the long entry. */
    spec = repeat('b', 5000, "stacks=7:db=/", ":interval=2");
    assert_int_equal(tl_options_parse(spec), 1);
    assert_int_equal(tl_options.stacks, 7);
    assert_true(tl_options.interval == 2.0);
    assert_string_equal(tl_options.db, "");
    free(spec);

    /* A long key, and a long bad value for a numeric key. */
    spec = repeat('k', 5000, "", "=1");
    assert_int_equal(tl_options_parse(spec), 1);
    free(spec);
    spec = repeat('9', 5000, "interval=", "");
    assert_int_equal(tl_options_parse(spec), 1);
    assert_defaults();
    free(spec);
}

static void test_options_limits_and_exit_keys(void **state)
{
    (void)state;
    assert_int_equal(tl_options_parse("max_threads=100:max_heap=64m:max_rss=2G:max_tasks=1k:"
                                      "exitcode=66:print_summary=0"),
                     0);
    assert_true(tl_options.max_threads == 100);
    assert_true(tl_options.max_heap == 64.0 * 1024 * 1024);
    assert_true(tl_options.max_rss == 2.0 * 1024 * 1024 * 1024);
    assert_true(tl_options.max_tasks == 1024);
    assert_int_equal(tl_options.exitcode, 66);
    assert_int_equal(tl_options.print_summary, 0);
    /* Bad values keep the defaults: no limit, no replaced status, a summary. */
    assert_int_equal(tl_options_parse("max_heap=lots:exitcode=300:print_summary=yes"), 3);
    assert_true(tl_options.max_heap == 0);
    assert_int_equal(tl_options.exitcode, -1);
    assert_int_equal(tl_options.print_summary, 1);
}

static void test_options_separators_and_quotes(void **state)
{
    (void)state;
    assert_int_equal(tl_options_parse("interval=0.5,stacks=12 log=quiet\tdb=\"/tmp/a b,c:d.db\""),
                     0);
    assert_true(tl_options.interval == 0.5);
    assert_int_equal(tl_options.stacks, 12);
    assert_int_equal(tl_options.log, TL_LOG_QUIET);
    assert_string_equal(tl_options.db, "/tmp/a b,c:d.db");
    assert_int_equal(tl_options_parse("db='/x y.db'"), 0);
    assert_string_equal(tl_options.db, "/x y.db");
}

static void test_options_log_path_gets_messages(void **state)
{
    (void)state;
    char path[] = "/tmp/tl-options-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char spec[128];
    snprintf(spec, sizeof spec, "log_path=%s:bogus=1", path);
    tl_log_set_level(TL_LOG_ERROR);
    assert_int_equal(tl_options_parse(spec), 1);
    char text[256] = "";
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    assert_non_null(strstr(text, "unknown option 'bogus'"));
    unlink(path);
    tl_log_set_path("/dev/stderr");
}

static void test_options_db_path_limit(void **state)
{
    (void)state;
    /* The longest path db[] holds is accepted whole; one more byte is rejected. */
    char *spec = repeat('p', PATH_MAX - 1, "db=", "");
    assert_int_equal(tl_options_parse(spec), 0);
    assert_int_equal(strlen(tl_options.db), PATH_MAX - 1);
    assert_int_equal(tl_options.db[PATH_MAX - 2], 'p');
    free(spec);
    spec = repeat('p', PATH_MAX, "db=", "");
    assert_int_equal(tl_options_parse(spec), 1);
    assert_string_equal(tl_options.db, "");
    free(spec);
}

static void test_options_unterminated_quote_rejected(void **state)
{
    (void)state;
    /* The open quote swallows the rest: one bad entry, nothing half-applied. */
    assert_int_equal(tl_options_parse("interval=\"0.5"), 1);
    assert_true(tl_options.interval == 1.0);
    assert_int_equal(tl_options_parse("stacks=8:db='/tmp/x.db:interval=2"), 1);
    assert_int_equal(tl_options.stacks, 8);
    assert_string_equal(tl_options.db, "");
    assert_true(tl_options.interval == 1.0);
}

static void test_options_stack_signal_real_time_only(void **state)
{
    (void)state;
    /* SIGINT or SIGSEGV would take a signal the program relies on. */
    assert_int_equal(tl_options_parse("stack_signal=2"), 1);
    assert_int_equal(tl_options.stack_signal, SIGRTMAX - 4);
    assert_int_equal(tl_options_parse("stack_signal=11"), 1);
    assert_int_equal(tl_options_parse("stack_signal=0"), 0);
    assert_int_equal(tl_options.stack_signal, 0);
    char spec[32];
    snprintf(spec, sizeof spec, "stack_signal=%d", SIGRTMIN + 1);
    assert_int_equal(tl_options_parse(spec), 0);
    assert_int_equal(tl_options.stack_signal, SIGRTMIN + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_unterminated_quote_rejected),
        cmocka_unit_test(test_options_stack_signal_real_time_only),
        cmocka_unit_test(test_options_defaults),
        cmocka_unit_test(test_options_all_keys_parsed),
        cmocka_unit_test(test_options_parse_starts_from_defaults),
        cmocka_unit_test(test_options_bad_value_keeps_default),
        cmocka_unit_test(test_options_nan_interval_rejected),
        cmocka_unit_test(test_options_unknown_key_counted),
        cmocka_unit_test(test_options_entry_without_equals_counted),
        cmocka_unit_test(test_options_empty_spec_fine),
        cmocka_unit_test(test_options_long_value_rejected),
        cmocka_unit_test(test_options_db_path_limit),
        cmocka_unit_test(test_options_limits_and_exit_keys),
        cmocka_unit_test(test_options_separators_and_quotes),
        cmocka_unit_test(test_options_log_path_gets_messages),
    };
    return cmocka_run_group_tests(tests, setup_group, NULL);
}
