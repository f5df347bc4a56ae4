/*
 * heap.h - the heap as the malloc interposers see it. Every tracked
 * allocation and free updates the calling thread's own counters (plain
 * stores, no atomics read-modify-write) by the block's usable size, so the
 * collector's sums give allocated, freed and live bytes and counts.
 *
 * Sampling follows tcmalloc and Go: each thread draws exponential intervals
 * of mean `sample_bytes`, and the allocation that crosses one is sampled: its
 * stack is unwound and interned as its allocation site, and the block goes
 * into a lock-free table of sampled addresses with its weight (1/p for
 * p = 1 - exp(-size/mean)), which makes per-site live bytes and counts
 * unbiased estimates. A free looks the address up in that table only while
 * it holds any entry. sample_bytes=1 samples every allocation (exact mode).
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
};

int tl_heap_init(double sample_bytes);
/* After a tracked allocation of `p` (usable size `size`). Hot path. */
void tl_heap_on_alloc(struct tl_thread *self, void *p, size_t size);
/* Before a tracked free of `p` (usable size `size`). Hot path. */
void tl_heap_on_free(struct tl_thread *self, void *p, size_t size);
struct tl_site *tl_heap_sites(void);
/* Calls fn for every sampled block still allocated. Collector only (exit). */
void tl_heap_for_each_sampled(void (*fn)(const struct tl_sampled *s, void *arg), void *arg);
/* The sampled-address table's memory: leak scans must not read it. */
void tl_heap_table_range(uintptr_t *lo, uintptr_t *hi);
void tl_heap_after_fork_child(void);

#endif
