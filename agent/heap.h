/*
 * heap.h - the heap as the malloc interposers see it. Every tracked
 * allocation and free updates the calling thread's own counters (plain
 * stores, no atomics read-modify-write) by the block's usable size, so the
 * collector's sums give allocated, freed and live bytes and counts.
 *
 * Sampling follows tcmalloc and Go: each thread draws exponential intervals
 * of mean `sample_bytes`, and the allocation that crosses one is sampled: its
 * stack is unwound and interned as its allocation site, and the block goes
 * into a table of sampled addresses (heap.c; a spin, slow paths only) with
 * its weight (1/p for p = 1 - exp(-size/mean)), which makes per-site live
 * bytes and counts unbiased estimates. A free looks the address up in that
 * table only when a small counting filter says a sampled block may live at
 * that address (one load, no lock). sample_bytes=1 samples every allocation
 * (exact mode).
 *
 * Sites and sampled entries live in the arena; the collector reads the
 * sites' atomic estimates and writes site_sample rows.
 */
#ifndef TL_HEAP_H
#define TL_HEAP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "publish.h"
#include "stack.h"
#include "thread.h"

struct tl_site {
    struct tl_pub pub;                 /* collector queue link (new site) */
    struct tl_site *next_all;          /* every site, newest first; immutable once pushed */
    uint32_t id;
    struct tl_stack *stack;            /* the allocation stack, innermost first */
    int64_t first_ns;
    _Atomic int64_t live_bytes;        /* estimates from the samples */
    _Atomic int64_t live_count;
    _Atomic int64_t alloc_bytes;
    int64_t written_live_bytes;        /* collector only: last site_sample */
    int64_t written_live_count;        /* collector only */
};

struct tl_sampled {
    struct tl_site *site;
    int64_t weight_bytes;              /* bytes this sample stands for */
    int64_t weight_count;              /* allocations it stands for */
    uintptr_t addr;
    size_t size;                       /* usable size */
    struct tl_sampled *next_free;
    struct tl_sampled *next_all;       /* every entry ever made; immutable once pushed */
    struct tl_sampled *next_bucket;    /* the sampled-block table's chain (heap.c) */
    int live;                          /* in that table: the block is still allocated */
};

int tl_heap_init(double sample_bytes);
/* Slow paths of the two below: a sampled allocation; a free while samples are live. */
void tl_heap_sample(struct tl_thread *self, void *p, size_t size);
void tl_heap_free_sampled(struct tl_thread *self, void *p);

/*
 * Filter over sampled block addresses, which hot-path frees read: one bit
 * per hash of an address, set while some live sampled block hashes there,
 * so a clear bit means "certainly not sampled". 8 KiB, so that it stays in
 * the L1 cache: a 64 KiB table of counts (heap.c, slow paths only) missed
 * L1 on a fifth of the frees' time.
 */
#define TL_HEAP_FILTER_BITS (1u << 16)
extern _Atomic uint64_t tl_heap_filter[TL_HEAP_FILTER_BITS / 64];

static inline size_t tl_heap_filter_index(const void *p)
{
    return (size_t)(((uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ull) >> 48);
}

static inline int tl_heap_maybe_sampled(const void *p)
{
    size_t i = tl_heap_filter_index(p);
    return (atomic_load_explicit(&tl_heap_filter[i / 64], memory_order_relaxed) >> (i % 64)) & 1;
}

/* A plain add to a counter only its owner writes: no locked instruction. Returns the sum. */
static inline uint64_t tl_heap_add(_Atomic uint64_t *counter, uint64_t n)
{
    uint64_t sum = atomic_load_explicit(counter, memory_order_relaxed) + n;
    atomic_store_explicit(counter, sum, memory_order_relaxed);
    return sum;
}

/*
 * Counts a tracked allocation of `size` usable bytes and says whether it is
 * to be sampled (tl_heap_sample). Hot path: two plain stores to the thread's
 * own record and a compare of the new byte total with the next sampling
 * point; only the allocation that reaches it is sampled (a new thread's first
 * allocation too: its point starts at 0).
 */
static inline int tl_heap_count_alloc(struct tl_thread *self, size_t size)
{
    uint64_t bytes = tl_heap_add(&self->heap_alloc_bytes, size);
    tl_heap_add(&self->heap_alloc_count, 1);
    return __builtin_expect(bytes >= self->heap_sample_at, 0);
}

/*
 * Counts a tracked free of `p` (usable size `size`) and says whether `p` may
 * be a sampled block (tl_heap_free_sampled): only then is the table probed.
 */
static inline int tl_heap_count_free(struct tl_thread *self, const void *p, size_t size)
{
    tl_heap_add(&self->heap_free_bytes, size);
    tl_heap_add(&self->heap_free_count, 1);
    return __builtin_expect(tl_heap_maybe_sampled(p), 0);
}

/* After a tracked allocation of `p`: counters, and the sample when one is due. */
static inline void tl_heap_on_alloc(struct tl_thread *self, void *p, size_t size)
{
    if (tl_heap_count_alloc(self, size))
        tl_heap_sample(self, p, size);
}

/* Before a tracked free of `p`: counters, and the sampled-block table when `p` may be in it. */
static inline void tl_heap_on_free(struct tl_thread *self, void *p, size_t size)
{
    if (tl_heap_count_free(self, p, size))
        tl_heap_free_sampled(self, p);
}

struct tl_site *tl_heap_sites(void);
/* Calls fn for every sampled block still allocated. Collector only (exit). */
void tl_heap_for_each_sampled(void (*fn)(const struct tl_sampled *s, void *arg), void *arg);
void tl_heap_after_fork_child(void);

#endif
