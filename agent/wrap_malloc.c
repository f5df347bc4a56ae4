/*
 * wrap_malloc.c - interposers for the malloc family: malloc, calloc,
 * realloc, reallocarray, free, posix_memalign, aligned_alloc, memalign,
 * valloc, pvalloc, malloc_usable_size. Each makes the real call and reports
 * the block's usable size to heap.c (counters; now and then a sample).
 *
 * Sizes: the counters use the usable size on both sides, so that freed bytes
 * match allocated bytes block for block without remembering anything per
 * block (the requested size would be cheaper at malloc, but free would have
 * to find it again: a header or a table, both dearer than this). With
 * glibc's allocator the usable size is read straight from the chunk header,
 * exactly as malloc_usable_size() computes it, which saves a call per
 * operation; a self-test at start-up checks the formula against the real
 * malloc_usable_size() and any other allocator (one the program brings) is
 * asked through its own malloc_usable_size().
 *
 * dlsym can allocate before the real functions are known (the first lookup
 * runs inside it): while any thread resolves, requests are served from a
 * small static arena whose blocks are never freed. A program that brings its
 * own allocator keeps it: RTLD_NEXT finds it, and everything goes through it.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export.h"
#include "heap.h"
#include "real.h"
#include "thread.h"

#define BOOT_SIZE (64 * 1024)

static _Alignas(64) char boot_arena[BOOT_SIZE];
static atomic_size_t boot_used;

/* A block of the static arena, with its size in front, or NULL when it is exhausted. */
static void *boot_alloc(size_t size, size_t align)
{
    if (align < 16)
        align = 16;
    size_t need = ((size + 15) & ~(size_t)15) + align;
    size_t start = atomic_fetch_add(&boot_used, need);
    if (start + need > BOOT_SIZE)
        return NULL;
    uintptr_t p = ((uintptr_t)boot_arena + start + 16 + align - 1) & ~(uintptr_t)(align - 1);
    ((size_t *)p)[-1] = size;
    return (void *)p;
}

static int in_boot(const void *p)
{
    return (const char *)p >= boot_arena && (const char *)p < boot_arena + BOOT_SIZE;
}

/* Whether the real allocator can be called; false only while dlsym itself allocates. */
static int real_ready(void)
{
    if (__builtin_expect(tl_real.malloc != NULL, 1))
        return 1;
    if (tl_real_resolving())
        return 0;
    tl_real_init();
    return tl_real.malloc != NULL;
}

enum { CHUNK_UNKNOWN, CHUNK_HEADER, CHUNK_ASK };
static int chunk_sizes = CHUNK_UNKNOWN; /* how usable sizes are read; set once */

#define CHUNK_MMAPPED 2 /* IS_MMAPPED in glibc's malloc.c */

/*
 * glibc's musable(): chunk size less the header word(s) the block does not
 * own, one, or two for an mmapped chunk (CHUNK_MMAPPED << 2 is that second word).
 */
static inline size_t header_usable(const void *p)
{
    size_t head = ((const size_t *)p)[-1];
    return (head & ~(size_t)7) - sizeof(size_t) - ((head & CHUNK_MMAPPED) << 2);
}

/* Whether header_usable() agrees with the real malloc_usable_size() on sample blocks. */
static int header_matches_real(void)
{
#if defined(__GLIBC__) && defined(__x86_64__)
    static const size_t sizes[] = {1, 24, 100, 1000, 5000, 300000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        void *p = tl_real.malloc(sizes[i]);
        int same = p && header_usable(p) == tl_real.malloc_usable_size(p);
        tl_real.free(p);
        if (!same)
            return 0;
    }
    return 1;
#else
    return 0; /* glibc's chunk layout is only relied on where it was checked */
#endif
}

static size_t usable_slow(void *p)
{
    if (chunk_sizes == CHUNK_UNKNOWN)
        chunk_sizes = header_matches_real() ? CHUNK_HEADER : CHUNK_ASK;
    return chunk_sizes == CHUNK_HEADER ? header_usable(p) : tl_real.malloc_usable_size(p);
}

static inline size_t usable(void *p)
{
    if (__builtin_expect(chunk_sizes == CHUNK_HEADER, 1))
        return header_usable(p);
    return usable_slow(p);
}

/* track() off its fast path: no record yet, agent off or busy, sizes asked of the allocator. */
static __attribute__((noinline, cold)) void *track_slow(void *p)
{
    struct tl_thread *self = tl_enter();
    if (self)
        tl_heap_on_alloc(self, p, usable(p));
    return p;
}

/* The sample of a new block, which then goes back to the caller. */
static __attribute__((noinline)) void *sample_and_return(struct tl_thread *self, void *p,
                                                         size_t size)
{
    tl_heap_sample(self, p, size);
    return p;
}

/*
 * Tracks a new block: counters, maybe a sample. Like the free below, it
 * makes tail calls only, so that the interposers need no callee-saved
 * register: the real allocator's call is their only one.
 */
static inline void *track(void *p)
{
    struct tl_thread *self = tl_enter_registered();
    if (__builtin_expect(!self || !p || chunk_sizes != CHUNK_HEADER, 0))
        return p ? track_slow(p) : NULL;
    size_t size = header_usable(p);
    if (tl_heap_count_alloc(self, size))
        return sample_and_return(self, p, size);
    return p;
}

static inline void untrack(void *p)
{
    struct tl_thread *self = tl_enter();
    if (self)
        tl_heap_on_free(self, p, usable(p));
}

TL_EXPORT void *malloc(size_t size)
{
    if (!real_ready())
        return boot_alloc(size, 16);
    return track(tl_real.malloc(size));
}

TL_EXPORT void *calloc(size_t n, size_t size)
{
    if (!real_ready()) {
        size_t total;
        if (__builtin_mul_overflow(n, size, &total))
            return NULL;
        return boot_alloc(total, 16); /* static memory starts zeroed */
    }
    return track(tl_real.calloc(n, size));
}

/* free() off its fast path: NULL, a static-arena block, no record yet, agent off or busy. */
static __attribute__((noinline, cold)) void free_slow(void *p)
{
    if (!p || in_boot(p))
        return;
    if (!real_ready())
        return; /* cannot happen for a real block: it came from the real allocator */
    untrack(p);
    tl_real.free(p);
}

static __attribute__((noinline)) void free_sampled(struct tl_thread *self, void *p)
{
    tl_heap_free_sampled(self, p);
    TL_REAL_RESOLVED(free)(p);
}

TL_EXPORT void free(void *p)
{
    struct tl_thread *self = tl_enter_registered();
    if (__builtin_expect(!self || !p || in_boot(p) || chunk_sizes != CHUNK_HEADER, 0)) {
        free_slow(p);
        return;
    }
    if (tl_heap_count_free(self, p, header_usable(p))) {
        free_sampled(self, p);
        return;
    }
    TL_REAL_RESOLVED(free)(p);
}

/* realloc of a static-arena block: move it to the real allocator. */
static void *boot_realloc(void *p, size_t size)
{
    size_t old = ((size_t *)p)[-1];
    void *q = malloc(size);
    if (q)
        memcpy(q, p, old < size ? old : size);
    return q;
}

TL_EXPORT void *realloc(void *p, size_t size)
{
    if (p && in_boot(p))
        return boot_realloc(p, size);
    if (!real_ready())
        return boot_alloc(size, 16);
    if (p)
        untrack(p);
    void *q = tl_real.realloc(p, size);
    if (!q && p && size)
        track(p); /* failed: the old block is still there */
    return track(q);
}

TL_EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, total);
}

TL_EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
    if (!real_ready()) {
        void *p = boot_alloc(size, align);
        if (!p)
            return ENOMEM;
        *out = p;
        return 0;
    }
    int rc = tl_real.posix_memalign(out, align, size);
    if (rc == 0)
        track(*out);
    return rc;
}

TL_EXPORT void *aligned_alloc(size_t align, size_t size)
{
    if (!real_ready())
        return boot_alloc(size, align);
    return track(tl_real.aligned_alloc(align, size));
}

TL_EXPORT void *memalign(size_t align, size_t size)
{
    if (!real_ready())
        return boot_alloc(size, align);
    return track(tl_real.memalign(align, size));
}

TL_EXPORT void *valloc(size_t size)
{
    if (!real_ready())
        return boot_alloc(size, 4096);
    return track(tl_real.valloc(size));
}

TL_EXPORT void *pvalloc(size_t size)
{
    if (!real_ready())
        return boot_alloc((size + 4095) & ~(size_t)4095, 4096);
    return track(tl_real.pvalloc(size));
}

TL_EXPORT size_t malloc_usable_size(void *p)
{
    if (!p)
        return 0;
    if (in_boot(p))
        return ((size_t *)p)[-1];
    if (!real_ready())
        return 0;
    return tl_real.malloc_usable_size(p);
}
