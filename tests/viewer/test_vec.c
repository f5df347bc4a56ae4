/*
 * test_vec.c - viewer/vec.c: growth keeps elements, new slots are zeroed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vec.h"

struct pair {
    int64_t a;
    char tag[12];
};

static void test_vec_push_grows_and_keeps_elements(void **state)
{
    struct tl_vec v;

    (void)state;
    tl_vec_init(&v, sizeof(struct pair));
    assert_int_equal(v.len, 0);
    for (int i = 0; i < 1000; i++) {
        struct pair *p = tl_vec_push(&v);

        assert_int_equal(p->a, 0);
        assert_int_equal(p->tag[0], 0);
        p->a = i * 3;
        memset(p->tag, 'x', sizeof(p->tag) - 1);
    }
    assert_int_equal(v.len, 1000);
    assert_true(v.cap >= 1000);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(((struct pair *)tl_vec_at(&v, (size_t)i))->a, i * 3);
    tl_vec_free(&v);
    assert_int_equal(v.len, 0);
    assert_null(v.data);
    assert_int_equal(v.size, sizeof(struct pair));
}

static void test_vec_reused_after_free_is_zeroed(void **state)
{
    struct tl_vec v;
    int64_t *x;

    (void)state;
    tl_vec_init(&v, sizeof(int64_t));
    *(int64_t *)tl_vec_push(&v) = -1;
    tl_vec_free(&v);
    x = tl_vec_push(&v);
    assert_int_equal(*x, 0);
    assert_int_equal(v.len, 1);
    tl_vec_free(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vec_push_grows_and_keeps_elements),
        cmocka_unit_test(test_vec_reused_after_free_is_zeroed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
