/*
 * test_dwarf_line.c - viewer/dwarf_line.c, elf_file.c and symbolize.c:
 * hand-built DWARF 4 and 5 line programs map addresses to the right rows;
 * every truncation and thousands of garbled copies of them, and truncated
 * or garbled copies of this test's own ELF file, parse without crashing and
 * answer only sane rows; this binary's own debug info gives a function's line.
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dwarf_line.h"
#include "load.h"
#include "symbolize.h"

/* ---- a tiny byte builder ---- */

struct buf {
    unsigned char b[512];
    size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
    assert_true(b->n + n <= sizeof b->b);
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

static void u8(struct buf *b, unsigned v)
{
    unsigned char c = (unsigned char)v;
    put(b, &c, 1);
}

static void uint_le(struct buf *b, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        u8(b, (unsigned)(v >> (8 * i)) & 0xff);
}

static void str(struct buf *b, const char *s)
{
    put(b, s, strlen(s) + 1);
}

static void patch32(struct buf *b, size_t at, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b->b[at + (size_t)i] = (unsigned char)(v >> (8 * i));
}

static const unsigned char std_lengths[12] = {0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1};

/* min_inst 1, max_ops 1, default_is_stmt 1, line_base -5, line_range 14, opcode_base 13 */
static void put_params(struct buf *b)
{
    u8(b, 1);
    u8(b, 1);
    u8(b, 1);
    u8(b, 0xfb);
    u8(b, 14);
    u8(b, 13);
    put(b, std_lengths, sizeof std_lengths);
}

static void set_address(struct buf *b, uint64_t addr)
{
    u8(b, 0);
    u8(b, 9);
    u8(b, 2);
    uint_le(b, addr, 8);
}

static void end_sequence(struct buf *b)
{
    u8(b, 0);
    u8(b, 1);
    u8(b, 1);
}

/* The special opcode that adds `addr` and `line` (line in -5..8) and emits a row. */
static void special(struct buf *b, unsigned addr, int line)
{
    u8(b, (unsigned)(13 + addr * 14 + (unsigned)(line + 5)));
}

/*
 * DWARF 4: /src/a.c lines 10 (0x1000) and 15 (0x1010), b.c line 16 (0x1012),
 * sequence end at 0x1018.
 */
static void build_v4(struct buf *b)
{
    b->n = 0;
    uint_le(b, 0, 4); /* unit_length, patched */
    uint_le(b, 4, 2);
    size_t header_length_at = b->n;
    uint_le(b, 0, 4);
    size_t header_start = b->n;
    put_params(b);
    str(b, "/src");
    u8(b, 0);
    str(b, "a.c");
    u8(b, 1), u8(b, 0), u8(b, 0);
    str(b, "b.c");
    u8(b, 0), u8(b, 0), u8(b, 0);
    u8(b, 0);
    patch32(b, header_length_at, (uint32_t)(b->n - header_start));
    set_address(b, 0x1000);
    u8(b, 3), u8(b, 9); /* advance_line 9: line 10 */
    u8(b, 1);           /* copy */
    u8(b, 2), u8(b, 0x10);
    u8(b, 3), u8(b, 5);
    u8(b, 1);
    u8(b, 4), u8(b, 2); /* set_file 2 */
    special(b, 2, 1);
    u8(b, 2), u8(b, 6);
    end_sequence(b);
    patch32(b, 0, (uint32_t)(b->n - 4));
}

/* .debug_line_str of build_v5: "/comp" at 0, "inc" at 6. */
static const unsigned char line_str[] = "/comp\0inc";

/*
 * DWARF 5, paths by DW_FORM_line_strp and DW_FORM_string, MD5 as data16:
 * inc/h.h line 5 (0x2000), /comp/main.c line 7 (0x2003), end at 0x2004.
 */
static void build_v5(struct buf *b)
{
    b->n = 0;
    uint_le(b, 0, 4);
    uint_le(b, 5, 2);
    u8(b, 8), u8(b, 0);
    size_t header_length_at = b->n;
    uint_le(b, 0, 4);
    size_t header_start = b->n;
    put_params(b);
    u8(b, 1), u8(b, 1), u8(b, 0x1f); /* directories: path as line_strp */
    u8(b, 2);
    uint_le(b, 0, 4);
    uint_le(b, 6, 4);
    u8(b, 3), u8(b, 1), u8(b, 0x08), u8(b, 2), u8(b, 0x0f), u8(b, 5), u8(b, 0x1e);
    u8(b, 2);
    str(b, "main.c");
    u8(b, 0);
    for (int i = 0; i < 16; i++)
        u8(b, 0xaa);
    str(b, "h.h");
    u8(b, 1);
    for (int i = 0; i < 16; i++)
        u8(b, 0xbb);
    patch32(b, header_length_at, (uint32_t)(b->n - header_start));
    set_address(b, 0x2000);
    u8(b, 3), u8(b, 4);
    u8(b, 1);
    u8(b, 4), u8(b, 0); /* set_file 0: main.c */
    special(b, 3, 2);
    u8(b, 2), u8(b, 1);
    end_sequence(b);
    patch32(b, 0, (uint32_t)(b->n - 4));
}

static struct tl_line_table *parse(const unsigned char *data, size_t size)
{
    struct tl_dwarf_sections sec;

    memset(&sec, 0, sizeof sec);
    sec.line.data = data;
    sec.line.size = size;
    sec.line_str.data = line_str;
    sec.line_str.size = sizeof line_str;
    struct tl_line_table *t = tl_line_table_parse(&sec);
    assert_non_null(t);
    return t;
}

static void expect_line(const struct tl_line_table *t, uint64_t addr, const char *file,
                        unsigned line)
{
    const char *got_file = NULL;
    unsigned got_line = 0;

    if (!file) {
        assert_int_equal(tl_line_table_find(t, addr, &got_file, &got_line), -1);
        return;
    }
    assert_int_equal(tl_line_table_find(t, addr, &got_file, &got_line), 0);
    assert_string_equal(got_file, file);
    assert_int_equal(got_line, line);
}

static void test_dwarf_line_v4_rows(void **state)
{
    struct buf b;

    (void)state;
    build_v4(&b);
    struct tl_line_table *t = parse(b.b, b.n);
    expect_line(t, 0xfff, NULL, 0);
    expect_line(t, 0x1000, "/src/a.c", 10);
    expect_line(t, 0x100f, "/src/a.c", 10);
    expect_line(t, 0x1010, "/src/a.c", 15);
    expect_line(t, 0x1012, "b.c", 16);
    expect_line(t, 0x1017, "b.c", 16);
    expect_line(t, 0x1018, NULL, 0);
    tl_line_table_free(t);
}

static void test_dwarf_line_v5_rows(void **state)
{
    struct buf b;

    (void)state;
    build_v5(&b);
    struct tl_line_table *t = parse(b.b, b.n);
    expect_line(t, 0x2000, "inc/h.h", 5);
    expect_line(t, 0x2002, "inc/h.h", 5);
    expect_line(t, 0x2003, "/comp/main.c", 7);
    expect_line(t, 0x2004, NULL, 0);
    tl_line_table_free(t);
}

static void test_dwarf_line_two_units(void **state)
{
    struct buf a, b;
    unsigned char both[1024];

    (void)state;
    build_v5(&a);
    build_v4(&b);
    memcpy(both, a.b, a.n);
    memcpy(both + a.n, b.b, b.n);
    struct tl_line_table *t = parse(both, a.n + b.n);
    expect_line(t, 0x1010, "/src/a.c", 15);
    expect_line(t, 0x2003, "/comp/main.c", 7);
    tl_line_table_free(t);
}

/* Every answer a damaged table gives must be a real row: a file and a line. */
static void probe(const unsigned char *data, size_t size)
{
    struct tl_line_table *t = parse(data, size);
    static const uint64_t addrs[] = {0, 0xfff, 0x1000, 0x1012, 0x2000, 0x2003, UINT64_MAX};

    for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
        const char *file = NULL;
        unsigned line = 0;

        if (tl_line_table_find(t, addrs[i], &file, &line) == 0) {
            assert_non_null(file);
            assert_true(line > 0);
        }
    }
    tl_line_table_free(t);
}

static void test_dwarf_line_truncated(void **state)
{
    struct buf b;

    (void)state;
    for (int v = 4; v <= 5; v++) {
        if (v == 4)
            build_v4(&b);
        else
            build_v5(&b);
        for (size_t n = 0; n < b.n; n++) {
            unsigned char *copy = malloc(n ? n : 1); /* exact size: overreads fail under ASan */
            memcpy(copy, b.b, n);
            struct tl_line_table *t = parse(copy, n);
            assert_int_equal(tl_line_table_rows(t), 0); /* the unit is cut: no sequence ends */
            tl_line_table_free(t);
            probe(copy, n);
            free(copy);
        }
    }
}

static uint32_t rng = 12345;

static uint32_t next_random(void)
{
    rng = rng * 1103515245u + 12345u;
    return rng >> 8;
}

static void test_dwarf_line_garbled(void **state)
{
    struct buf a, b;
    unsigned char both[1024];

    (void)state;
    build_v4(&a);
    build_v5(&b);
    memcpy(both, a.b, a.n);
    memcpy(both + a.n, b.b, b.n);
    size_t n = a.n + b.n;
    for (int round = 0; round < 20000; round++) {
        unsigned char *copy = malloc(n);
        memcpy(copy, both, n);
        for (uint32_t k = next_random() % 4 + 1; k > 0; k--)
            copy[next_random() % n] = (unsigned char)next_random();
        probe(copy, n);
        free(copy);
    }
}

/* One line, so the function's entry address maps to it. */
__attribute__((noinline)) static int marker_line(void) { return __LINE__; }

/* This binary's path and the link-time address of marker_line. */
static uint64_t marker_vaddr(char *path, size_t size)
{
    Dl_info info;
    ssize_t n = readlink("/proc/self/exe", path, size - 1);

    assert_true(n > 0);
    path[n] = '\0';
    assert_true(dladdr((void *)marker_line, &info) != 0);
    /* PIE: the first PT_LOAD is at 0, so the base dladdr gives is the load bias. */
    return (uint64_t)((uintptr_t)marker_line - (uintptr_t)info.dli_fbase);
}

static void test_symbolize_own_binary(void **state)
{
    char path[4096];
    const char *file;
    unsigned line;

    (void)state;
    uint64_t vaddr = marker_vaddr(path, sizeof path);
    tl_symbolize_reset();
    assert_int_equal(tl_symbolize(path, (int64_t)vaddr, &file, &line), 0);
    assert_non_null(strstr(file, "test_dwarf_line.c"));
    assert_int_equal(line, (unsigned)marker_line());
    assert_int_equal(tl_symbolize(NULL, (int64_t)vaddr, &file, &line), -1);
    assert_int_equal(tl_symbolize(path, TL_NULL, &file, &line), -1);
    assert_int_equal(tl_symbolize("/nonexistent/module", 0x1000, &file, &line), -1);
    assert_int_equal(tl_symbolize("/proc/self/status", 0x1000, &file, &line), -1);
    tl_symbolize_reset();
}

static unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    assert_true(n > 0);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = malloc((size_t)n);
    assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return data;
}

/* A damaged copy of the module, written to `tmp`, symbolized: no crash, sane answers. */
static void symbolize_copy(const char *tmp, const unsigned char *data, size_t n, uint64_t vaddr)
{
    const char *file;
    unsigned line;
    FILE *f = fopen(tmp, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
    tl_symbolize_reset();
    if (tl_symbolize(tmp, (int64_t)vaddr, &file, &line) == 0) {
        assert_non_null(file);
        assert_true(line > 0);
    }
}

static void test_symbolize_damaged_elf(void **state)
{
    char path[4096], tmp[] = "/tmp/tl-dwarf-XXXXXX";
    size_t size;

    (void)state;
    uint64_t vaddr = marker_vaddr(path, sizeof path);
    unsigned char *data = slurp(path, &size);
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    close(fd);
    for (int i = 0; i <= 64; i++)
        symbolize_copy(tmp, data, size * (size_t)i / 64, vaddr);
    unsigned char *copy = malloc(size);
    for (int round = 0; round < 200; round++) {
        memcpy(copy, data, size);
        for (int k = 0; k < 64; k++) {
            /* aim half the damage at the headers and section table, where offsets live */
            size_t at = k % 2 ? next_random() % 64 : size - 1 - next_random() % 4096 % size;
            copy[at] = (unsigned char)next_random();
        }
        symbolize_copy(tmp, copy, size, vaddr);
    }
    free(copy);
    free(data);
    unlink(tmp);
    tl_symbolize_reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dwarf_line_v4_rows),
        cmocka_unit_test(test_dwarf_line_v5_rows),
        cmocka_unit_test(test_dwarf_line_two_units),
        cmocka_unit_test(test_dwarf_line_truncated),
        cmocka_unit_test(test_dwarf_line_garbled),
        cmocka_unit_test(test_symbolize_own_binary),
        cmocka_unit_test(test_symbolize_damaged_elf),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
