/*
 * test_panel.c - viewer/panel.c and spark.c: filter, sort, inversion,
 * selection kept by id across refills, search with wrap-around; sparklines in
 * Unicode blocks and in ASCII.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "panel.h"
#include "spark.h"

static const struct tl_column cols[] = {{"NAME", 10, false}, {"N", 5, true}};

static void fill(struct tl_panel *p)
{
    static const char *const names[] = {"beta", "alpha", "gamma", "delta"};
    static const double n[] = {5, 20, 1, 10};

    for (size_t i = 0; i < 4; i++) {
        struct tl_row *r = tl_panel_add(p, (int64_t)i + 100, i);

        tl_panel_cell(r, 0, 0, "%s", names[i]);
        tl_panel_cell(r, 1, n[i], "%.0f", n[i]);
    }
    tl_panel_update(p);
}

static const char *name_at(const struct tl_panel *p, size_t i)
{
    return tl_panel_visible(p, i)->cells[0];
}

static void test_panel_sorts_by_text_and_number(void **state)
{
    struct tl_panel p;

    (void)state;
    tl_panel_init(&p, cols, 2, 0, false);
    fill(&p);
    assert_string_equal(name_at(&p, 0), "alpha");
    assert_string_equal(name_at(&p, 3), "gamma");
    p.sort_col = 1;
    p.invert = true;
    tl_panel_update(&p);
    assert_string_equal(name_at(&p, 0), "alpha"); /* 20 */
    assert_string_equal(name_at(&p, 1), "delta"); /* 10 */
    assert_string_equal(name_at(&p, 3), "gamma"); /* 1 */
    tl_panel_free(&p);
}

static void test_panel_filter_keeps_matching_rows(void **state)
{
    struct tl_panel p;

    (void)state;
    tl_panel_init(&p, cols, 2, 0, false);
    fill(&p);
    strcpy(p.filter, "TA"); /* beta, delta; case-insensitive */
    tl_panel_update(&p);
    assert_int_equal(p.view.len, 2);
    assert_string_equal(name_at(&p, 0), "beta");
    strcpy(p.filter, "zzz");
    tl_panel_update(&p);
    assert_int_equal(p.view.len, 0);
    assert_null(tl_panel_selected(&p));
    p.filter[0] = '\0';
    tl_panel_update(&p);
    assert_int_equal(p.view.len, 4);
    tl_panel_free(&p);
}

static void test_panel_selection_follows_row_across_refill(void **state)
{
    struct tl_panel p;

    (void)state;
    tl_panel_init(&p, cols, 2, 0, false);
    fill(&p);
    tl_panel_move(&p, 2); /* alpha beta [delta] gamma */
    assert_string_equal(tl_panel_selected(&p)->cells[0], "delta");
    tl_panel_clear(&p);
    fill(&p);
    assert_string_equal(tl_panel_selected(&p)->cells[0], "delta");
    tl_panel_move(&p, 100);
    assert_string_equal(tl_panel_selected(&p)->cells[0], "gamma");
    tl_panel_move(&p, -100);
    assert_string_equal(tl_panel_selected(&p)->cells[0], "alpha");
    tl_panel_free(&p);
}

static void test_panel_search_wraps_and_finds_next(void **state)
{
    struct tl_panel p;

    (void)state;
    tl_panel_init(&p, cols, 2, 0, false);
    fill(&p);
    strcpy(p.search, "a");
    assert_true(tl_panel_find(&p, false)); /* alpha, the selection, matches */
    assert_string_equal(tl_panel_selected(&p)->cells[0], "alpha");
    assert_true(tl_panel_find(&p, true));
    assert_string_equal(tl_panel_selected(&p)->cells[0], "beta");
    strcpy(p.search, "gam");
    assert_true(tl_panel_find(&p, true));
    assert_string_equal(tl_panel_selected(&p)->cells[0], "gamma");
    strcpy(p.search, "alp");
    assert_true(tl_panel_find(&p, true)); /* wraps */
    assert_string_equal(tl_panel_selected(&p)->cells[0], "alpha");
    strcpy(p.search, "nothing");
    assert_false(tl_panel_find(&p, true));
    tl_panel_free(&p);
}

static void test_panel_cell_hides_control_bytes(void **state)
{
    struct tl_panel p;
    struct tl_row *r;

    (void)state;
    tl_panel_init(&p, cols, 2, 0, false);
    r = tl_panel_add(&p, 1, 0);
    tl_panel_cell(r, 0, 0, "a\x1b[31mb\n");
    assert_string_equal(r->cells[0], "a?[31mb?");
    tl_panel_free(&p);
}

static void test_spark_levels(void **state)
{
    struct tl_series s = {.n = 3, .v = {0, 5, 10}};
    char buf[64];

    (void)state;
    tl_spark(buf, sizeof(buf), &s, 10, false);
    assert_string_equal(buf, "_=#");
    tl_spark(buf, sizeof(buf), &s, 10, true);
    assert_string_equal(buf, "\u2581\u2585\u2588");
    tl_spark(buf, sizeof(buf), &s, 2, false); /* the last two */
    assert_string_equal(buf, "_#");
    s.v[0] = s.v[1] = s.v[2] = 7;
    tl_spark(buf, sizeof(buf), &s, 10, false);
    assert_string_equal(buf, "___");
    s.n = 0;
    tl_spark(buf, sizeof(buf), &s, 10, true);
    assert_string_equal(buf, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_panel_sorts_by_text_and_number),
        cmocka_unit_test(test_panel_filter_keeps_matching_rows),
        cmocka_unit_test(test_panel_selection_follows_row_across_refill),
        cmocka_unit_test(test_panel_search_wraps_and_finds_next),
        cmocka_unit_test(test_panel_cell_hides_control_bytes),
        cmocka_unit_test(test_spark_levels),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
