/* arena.c - bump allocator over mmap'd chunks (see arena.h). */
#include "arena.h"

#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "spin.h"

#define CHUNK_SIZE (4u << 20)

static struct tl_spin arena_lock = TL_SPIN_INIT;
static char *chunk_cur;                 /* under arena_lock */
static size_t chunk_left;               /* under arena_lock */
static size_t used_bytes;               /* under arena_lock */
static size_t limit_bytes = (size_t)1 << 30; /* set at init */

#define MAX_REGIONS 4096

static struct tl_region regions[MAX_REGIONS]; /* under arena_lock (adds); read at exit */
static atomic_int nregions;

static void region_add_locked(const void *p, size_t size)
{
    int n = atomic_load(&nregions);
    if (n < MAX_REGIONS) {
        regions[n] = (struct tl_region){(uintptr_t)p, (uintptr_t)p + size};
        atomic_store(&nregions, n + 1);
    }
}

void tl_region_add(const void *p, size_t size)
{
    tl_spin_lock(&arena_lock);
    region_add_locked(p, size);
    tl_spin_unlock(&arena_lock);
}

int tl_region_list(struct tl_region *out, int max)
{
    tl_spin_lock(&arena_lock);
    int n = atomic_load(&nregions);
    for (int i = 0; i < n && i < max; i++)
        out[i] = regions[i];
    tl_spin_unlock(&arena_lock);
    return n;
}

/* Resident pages in [p, p + size) (page-aligned p), one mincore per slice of the vector. */
static int64_t resident_pages(uintptr_t p, size_t size, size_t page)
{
    static unsigned char vec[16384]; /* one caller at a time (arena.h): 64 MiB of 4 KiB pages */
    int64_t pages = 0;
    for (size_t done = 0; done < size;) {
        size_t len = size - done;
        if (len > sizeof vec * page)
            len = sizeof vec * page;
        if (mincore((void *)(p + done), len, vec) != 0)
            return -1;
        for (size_t i = 0; i < (len + page - 1) / page; i++)
            pages += vec[i] & 1;
        done += len;
    }
    return pages;
}

static struct tl_region static_data; /* set once at start-up */

void tl_region_set_static(uintptr_t lo, uintptr_t hi)
{
    static_data = (struct tl_region){lo, hi};
}

int64_t tl_region_resident(void)
{
    static struct tl_region copy[MAX_REGIONS]; /* one caller at a time (arena.h) */
    int n = tl_region_list(copy, MAX_REGIONS);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = static_data.lo & ~(uintptr_t)(page - 1);
    int64_t pages = lo < static_data.hi ? resident_pages(lo, static_data.hi - lo, page) : 0;
    if (pages < 0)
        return -1;
    for (int i = 0; i < n && i < MAX_REGIONS; i++) {
        int64_t r = resident_pages(copy[i].lo, copy[i].hi - copy[i].lo, page);
        if (r < 0)
            return -1;
        pages += r;
    }
    return pages * (int64_t)page;
}

/* Called with arena_lock held. */
static void *map_chunk(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    region_add_locked(p, size);
    return p;
}

static void *alloc_aligned(size_t size, size_t align)
{
    size = (size + align - 1) & ~(align - 1);
    void *out = NULL;
    tl_spin_lock(&arena_lock);
    if (used_bytes + size > limit_bytes)
        goto done;
    if (size > CHUNK_SIZE / 4) {
        out = map_chunk(size);
    } else {
        size_t pad = (size_t)(-(uintptr_t)chunk_cur & (align - 1));
        if (size + pad > chunk_left) {
            char *c = map_chunk(CHUNK_SIZE);
            if (!c)
                goto done;
            chunk_cur = c; /* mmap'd chunks are page aligned */
            chunk_left = CHUNK_SIZE;
            pad = 0;
        }
        out = chunk_cur + pad;
        chunk_cur += size + pad;
        chunk_left -= size + pad;
    }
    if (out)
        used_bytes += size;
done:
    tl_spin_unlock(&arena_lock);
    return out;
}

void *tl_arena_alloc(size_t size)
{
    return alloc_aligned(size, 16);
}

void *tl_arena_alloc_line(size_t size)
{
    return alloc_aligned(size, 64);
}

size_t tl_arena_used(void)
{
    tl_spin_lock(&arena_lock);
    size_t n = used_bytes;
    tl_spin_unlock(&arena_lock);
    return n;
}

void tl_arena_set_limit(size_t bytes)
{
    limit_bytes = bytes;
}

void tl_arena_after_fork_child(void)
{
    tl_spin_reset(&arena_lock);
}

void tl_arena_fork_prepare(void)
{
    tl_spin_lock(&arena_lock);
}

void tl_arena_fork_parent(void)
{
    tl_spin_unlock(&arena_lock);
}
