/*
 * test_json.c - viewer/json.c: layout and string escaping, checked byte for
 * byte through open_memstream.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "json.h"

struct capture {
    char *buf;
    size_t len;
    FILE *out;
    struct tl_json j;
};

static void capture_open(struct capture *c)
{
    c->buf = NULL;
    c->out = open_memstream(&c->buf, &c->len);
    assert_non_null(c->out);
    tl_json_init(&c->j, c->out);
}

/* Closes the stream and checks what was written; frees the buffer. */
static void capture_expect(struct capture *c, const char *expected)
{
    assert_int_equal(fclose(c->out), 0);
    assert_string_equal(c->buf, expected);
    free(c->buf);
}

static void check_string(const char *in, const char *expected)
{
    struct capture c;

    capture_open(&c);
    tl_json_string(&c.j, in);
    capture_expect(&c, expected);
}

static void test_json_escapes_quotes_and_backslash(void **state)
{
    (void)state;
    check_string("a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
}

static void test_json_escapes_control_chars(void **state)
{
    (void)state;
    check_string("\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\"");
    check_string("\x01x\x1f\x1b", "\"\\u0001x\\u001f\\u001b\"");
    check_string("\x7f", "\"\x7f\"");
}

static void test_json_passes_utf8_through(void **state)
{
    (void)state;
    /* 2-, 3- and 4-byte sequences, and the highest code point U+10FFFF */
    check_string("w\xc3\xb6rker \xe2\x9c\x93 \xf0\x9f\x94\x92 \xf4\x8f\xbf\xbf",
                  "\"w\xc3\xb6rker \xe2\x9c\x93 \xf0\x9f\x94\x92 \xf4\x8f\xbf\xbf\"");
}

static void test_json_replaces_invalid_utf8(void **state)
{
    (void)state;
    check_string("a\xff" "b", "\"a\\ufffdb\"");               /* never valid */
    check_string("\x80", "\"\\ufffd\"");                       /* lone continuation */
    check_string("\xc0\xaf", "\"\\ufffd\\ufffd\"");            /* overlong '/' */
    check_string("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate U+D800 */
    check_string("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
    check_string("ab\xe2\x82", "\"ab\\ufffd\\ufffd\"");        /* truncated at the end */
    check_string("\xe2\x82" "x", "\"\\ufffd\\ufffdx\"");       /* truncated mid-string */
}

static void test_json_null_string_is_null(void **state)
{
    (void)state;
    check_string(NULL, "null");
}

static void test_json_layout_indents_and_separates(void **state)
{
    struct capture c;

    (void)state;
    capture_open(&c);
    tl_json_begin_object(&c.j, false);
    tl_json_key(&c.j, "n");
    tl_json_int(&c.j, -42);
    tl_json_key(&c.j, "list");
    tl_json_begin_array(&c.j, false);
    tl_json_begin_object(&c.j, true);
    tl_json_key(&c.j, "addr");
    tl_json_hex(&c.j, UINT64_MAX);
    tl_json_key(&c.j, "x");
    tl_json_null(&c.j);
    tl_json_key(&c.j, "inner");
    tl_json_begin_array(&c.j, false); /* inside a oneline object: stays on the line */
    tl_json_int(&c.j, 1);
    tl_json_int(&c.j, 2);
    tl_json_end_array(&c.j);
    tl_json_end_object(&c.j);
    tl_json_string(&c.j, "s");
    tl_json_end_array(&c.j);
    tl_json_key(&c.j, "empty");
    tl_json_begin_array(&c.j, false);
    tl_json_end_array(&c.j);
    tl_json_end_object(&c.j);
    tl_json_finish(&c.j);
    capture_expect(&c, "{\n"
                       "  \"n\": -42,\n"
                       "  \"list\": [\n"
                       "    {\"addr\": \"0xffffffffffffffff\", \"x\": null, \"inner\": [1, 2]},\n"
                       "    \"s\"\n"
                       "  ],\n"
                       "  \"empty\": []\n"
                       "}\n");
}

static void test_json_escapes_keys(void **state)
{
    struct capture c;

    (void)state;
    capture_open(&c);
    tl_json_begin_object(&c.j, true);
    tl_json_key(&c.j, "k\"\n");
    tl_json_int(&c.j, INT64_MIN);
    tl_json_end_object(&c.j);
    capture_expect(&c, "{\"k\\\"\\n\": -9223372036854775808}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_escapes_quotes_and_backslash),
        cmocka_unit_test(test_json_escapes_control_chars),
        cmocka_unit_test(test_json_passes_utf8_through),
        cmocka_unit_test(test_json_replaces_invalid_utf8),
        cmocka_unit_test(test_json_null_string_is_null),
        cmocka_unit_test(test_json_layout_indents_and_separates),
        cmocka_unit_test(test_json_escapes_keys),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
