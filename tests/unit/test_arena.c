/*
 * test_arena.c - agent/arena.c: what tl_region_resident() counts as the
 * agent's own memory. Pages the arena hands out count once they are
 * touched, static data counts once it is declared, and nothing else does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "arena.h"

#define PAGES 64

static size_t page_size(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

/* Arena memory counts when touched, a page at a time. */
static void test_touched_arena_pages_count(void **state)
{
    (void)state;
    size_t page = page_size();
    char *p = tl_arena_alloc(PAGES * page); /* from a fresh chunk: untouched until now */
    assert_non_null(p);
    int64_t before = tl_region_resident();
    assert_true(before >= 0);
    for (int i = 0; i < PAGES; i++)
        p[i * page] = 1;
    int64_t after = tl_region_resident();
    assert_int_equal(after - before, (int64_t)(PAGES * page));
}

/* Memory the program maps itself is not the agent's; declared static data is. */
static void test_only_the_agents_memory(void **state)
{
    (void)state;
    size_t page = page_size();
    char *mine = mmap(NULL, PAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                      -1, 0);
    assert_true(mine != MAP_FAILED);
    int64_t before = tl_region_resident();
    memset(mine, 1, PAGES * page);
    assert_int_equal(tl_region_resident(), before);
    tl_region_set_static((uintptr_t)mine, (uintptr_t)mine + PAGES * page);
    assert_int_equal(tl_region_resident(), before + (int64_t)(PAGES * page));
    tl_region_set_static(0, 0);
    munmap(mine, PAGES * page);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_touched_arena_pages_count),
        cmocka_unit_test(test_only_the_agents_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
