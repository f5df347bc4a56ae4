/*
 * test_encode.c - the exporters' encoders against known answers: protobuf
 * varints and fields (protobuf.c), gzip with stored blocks (gzip.c) and the
 * OpenMetrics writer's buffer contract (common/openmetrics.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gzip.h"
#include "openmetrics.h"
#include "protobuf.h"
#include "utf8.h"

static void expect_bytes(const struct tl_pb *b, const uint8_t *want, size_t n)
{
    assert_int_equal(b->len, n);
    assert_memory_equal(b->data, want, n);
}

static void test_protobuf_varint_known_encodings(void **state)
{
    struct tl_pb b;

    (void)state;
    tl_pb_init(&b);
    tl_pb_varint(&b, 150); /* the protobuf documentation's example */
    expect_bytes(&b, (const uint8_t[]){0x96, 0x01}, 2);
    tl_pb_clear(&b);
    tl_pb_int(&b, 1, -1); /* int64 -1: ten bytes */
    expect_bytes(&b, (const uint8_t[]){0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0x01}, 11);
    tl_pb_free(&b);
}

static void test_protobuf_fields(void **state)
{
    struct tl_pb b, sub;
    const uint64_t packed[] = {3, 270};

    (void)state;
    tl_pb_init(&b);
    tl_pb_init(&sub);
    tl_pb_uint(&b, 1, 0);         /* default: not written */
    tl_pb_string(&b, 6, "");      /* always written */
    tl_pb_string(&b, 6, "ab");
    tl_pb_packed(&b, 4, packed, 2);
    tl_pb_uint(&sub, 1, 7);
    tl_pb_message(&b, 2, &sub);
    expect_bytes(&b, (const uint8_t[]){0x32, 0x00, 0x32, 0x02, 'a', 'b', 0x22, 0x03, 0x03, 0x8e,
                                       0x02, 0x12, 0x02, 0x08, 0x07}, 15);
    tl_pb_free(&sub);
    tl_pb_free(&b);
}

static void test_crc32_check_value(void **state)
{
    (void)state;
    assert_int_equal(tl_crc32(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(tl_crc32(tl_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
}

static uint32_t le32(const unsigned char *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* 200000 bytes: three full stored blocks and a final one of 3395. */
static void test_gzip_stored_blocks(void **state)
{
    const size_t n = 200000;
    unsigned char *data = malloc(n), *out = NULL;
    size_t out_len = 0, pos = 10, total = 0;
    FILE *f = open_memstream((char **)&out, &out_len);
    int blocks = 0, final = 0;

    (void)state;
    for (size_t i = 0; i < n; i++)
        data[i] = (unsigned char)(i * 7);
    assert_int_equal(tl_gzip_write(f, data, n), 0);
    fclose(f);
    assert_memory_equal(out, ((const unsigned char[]){0x1f, 0x8b, 8, 0}), 4);
    while (!final) {
        unsigned len = out[pos + 1] | out[pos + 2] << 8, nlen = out[pos + 3] | out[pos + 4] << 8;

        assert_int_equal(out[pos] & 6, 0); /* BTYPE 00: stored */
        final = out[pos] & 1;
        assert_int_equal(len ^ 0xffff, nlen);
        assert_memory_equal(out + pos + 5, data + total, len);
        total += len;
        pos += 5 + len;
        blocks++;
    }
    assert_int_equal(blocks, 4);
    assert_int_equal(total, n);
    assert_int_equal(le32(out + pos), tl_crc32(0, data, n));
    assert_int_equal(le32(out + pos + 4), n);
    assert_int_equal(pos + 8, out_len);
    free(out);
    free(data);
}

static void test_gzip_empty(void **state)
{
    unsigned char *out = NULL;
    size_t out_len = 0;
    FILE *f = open_memstream((char **)&out, &out_len);

    (void)state;
    assert_int_equal(tl_gzip_write(f, "", 0), 0);
    fclose(f);
    assert_int_equal(out_len, 10 + 5 + 8);
    assert_memory_equal(out + 10, ((const unsigned char[]){1, 0, 0, 0xff, 0xff}), 5);
    free(out);
}

static void test_openmetrics_buffer_too_small(void **state)
{
    struct tl_metrics m;
    char big[65536], small[256];
    int n;

    (void)state;
    tl_metrics_init(&m);
    m.pid = 7;
    m.threads_live = 3;
    m.lock_wait_ns = 1500000001;
    n = tl_openmetrics_format(big, sizeof(big), &m, 1);
    assert_true(n > 0);
    assert_int_equal((size_t)n, strlen(big));
    assert_non_null(strstr(big, "\nthreadlens_threads_live{pid=\"7\"} 3\n"));
    assert_non_null(strstr(big, "\nthreadlens_lock_wait_seconds_total{pid=\"7\"} 1.500000001\n"));
    assert_null(strstr(big, "threadlens_rss_bytes{")); /* unknown: left out */
    assert_string_equal(big + n - 6, "# EOF\n");
    assert_int_equal(tl_openmetrics_format(small, sizeof(small), &m, 1), -ENOSPC);
    assert_int_equal(tl_openmetrics_format(big, (size_t)n, &m, 1), -ENOSPC); /* no room for NUL */
    assert_int_equal(tl_openmetrics_format(big, (size_t)n + 1, &m, 1), n);
}

static void test_openmetrics_kind_index(void **state)
{
    (void)state;
    assert_int_equal(tl_metrics_kind_index("lock-order-inversion"), 0);
    assert_int_equal(tl_metrics_kind_index("limit-exceeded"), TL_OM_KINDS - 1);
    assert_int_equal(tl_metrics_kind_index("no-such-kind"), -1);
    assert_int_equal(tl_metrics_severity_index("info"), 2);
    assert_int_equal(tl_metrics_severity_index(NULL), -1);
}

static void test_utf8_len_rfc3629(void **state)
{
    (void)state;
    assert_int_equal(tl_utf8_len("a"), 1);
    assert_int_equal(tl_utf8_len(""), 0);
    assert_int_equal(tl_utf8_len("\xC3\xA9"), 2);         /* e acute */
    assert_int_equal(tl_utf8_len("\xE2\x82\xAC"), 3);     /* euro sign */
    assert_int_equal(tl_utf8_len("\xF0\x9F\x98\x80"), 4); /* emoji */
    assert_int_equal(tl_utf8_len("\xC0\xAF"), 0);         /* overlong */
    assert_int_equal(tl_utf8_len("\xED\xA0\x80"), 0);     /* surrogate */
    assert_int_equal(tl_utf8_len("\xF4\x90\x80\x80"), 0); /* above U+10FFFF */
    assert_int_equal(tl_utf8_len("\xC3"), 0);             /* truncated at the NUL */
    assert_int_equal(tl_utf8_len("\xFF"), 0);
}

static void test_utf8_sanitize(void **state)
{
    char out[16];

    (void)state;
    assert_int_equal(tl_utf8_sanitize(out, sizeof(out), "a\xFF" "b\xC3\xA9"), 7);
    assert_string_equal(out, "a\xEF\xBF\xBD" "b\xC3\xA9");
    assert_int_equal(tl_utf8_sanitize(out, 4, "ab\xC3\xA9"), 2); /* no half sequence */
    assert_string_equal(out, "ab");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_protobuf_varint_known_encodings),
        cmocka_unit_test(test_protobuf_fields),
        cmocka_unit_test(test_crc32_check_value),
        cmocka_unit_test(test_gzip_stored_blocks),
        cmocka_unit_test(test_gzip_empty),
        cmocka_unit_test(test_openmetrics_buffer_too_small),
        cmocka_unit_test(test_openmetrics_kind_index),
        cmocka_unit_test(test_utf8_len_rfc3629),
        cmocka_unit_test(test_utf8_sanitize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
