/* heap.c - heap counters, allocation sampling and sites (see heap.h). */
#include "heap.h"

#include <errno.h>
#include <limits.h>
#include <math.h>

#include "arena.h"
#include "clock.h"
#include "log.h"
#include "spin.h"

#define FIRST_BUCKETS 1024 /* doubles whenever the live sampled blocks outnumber it twice */

static double mean_bytes = 512 * 1024;      /* set at init */

/*
 * Live sampled blocks by address: chained buckets under table_lock. Only
 * the slow paths (a sampled allocation, the free of a block the filter
 * names) come here, about twice per mean_bytes allocated, so a spin costs
 * nothing measurable; what matters is that the table stays as small as the
 * live samples (a few cache lines, not megabytes of TLB misses) and that a
 * freed block's address leaves it (no tombstones piling up over a long run).
 */
static struct tl_spin table_lock = TL_SPIN_INIT;
static struct tl_sampled **buckets;         /* under table_lock */
static size_t bucket_mask;                  /* under table_lock */
static size_t table_live;                   /* under table_lock */
_Atomic uint64_t tl_heap_filter[TL_HEAP_FILTER_BITS / 64]; /* see heap.h */
static struct tl_spin filter_lock = TL_SPIN_INIT;
static unsigned char filter_counts[TL_HEAP_FILTER_BITS]; /* under filter_lock */
static struct tl_site *_Atomic all_sites;
static atomic_uint next_site_id = 1;
static struct tl_spin free_lock = TL_SPIN_INIT;
static struct tl_sampled *free_entries;     /* recycled entries, under free_lock */
static atomic_int full_logged;

int tl_heap_init(double sample_bytes)
{
    mean_bytes = sample_bytes < 1 ? 1 : sample_bytes;
    buckets = tl_arena_alloc(FIRST_BUCKETS * sizeof *buckets);
    bucket_mask = FIRST_BUCKETS - 1;
    if (!buckets)
        return -1;
    return 0;
}

static size_t bucket_of(uintptr_t addr, size_t mask)
{
    return (size_t)(((uint64_t)addr * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

/* Unlinks and returns the entry for `addr`, or NULL. table_lock held. */
static struct tl_sampled *table_remove(uintptr_t addr)
{
    for (struct tl_sampled **pp = &buckets[bucket_of(addr, bucket_mask)]; *pp;
         pp = &(*pp)->next_bucket) {
        struct tl_sampled *e = *pp;
        if (e->addr == addr) {
            *pp = e->next_bucket;
            e->live = 0;
            table_live--;
            return e;
        }
    }
    return NULL;
}

/* Twice the buckets, when the arena has room (else the chains grow longer). table_lock held. */
static void table_grow(void)
{
    size_t n = (bucket_mask + 1) * 2;
    struct tl_sampled **fresh = tl_arena_alloc(n * sizeof *fresh);
    if (!fresh)
        return;
    for (size_t i = 0; i <= bucket_mask; i++) {
        while (buckets[i]) {
            struct tl_sampled *e = buckets[i];
            buckets[i] = e->next_bucket;
            size_t b = bucket_of(e->addr, n - 1);
            e->next_bucket = fresh[b];
            fresh[b] = e;
        }
    }
    buckets = fresh; /* the old array stays in the arena: at most as much again */
    bucket_mask = n - 1;
}

/* Adds `e`; returns the entry it replaces (a block freed behind our back), or NULL. */
static struct tl_sampled *table_insert(struct tl_sampled *e)
{
    tl_spin_lock(&table_lock);
    struct tl_sampled *old = table_remove(e->addr);
    if (table_live >= 2 * (bucket_mask + 1))
        table_grow();
    struct tl_sampled **b = &buckets[bucket_of(e->addr, bucket_mask)];
    e->next_bucket = *b;
    e->live = 1;
    *b = e;
    table_live++;
    tl_spin_unlock(&table_lock);
    return old;
}

static uint64_t next_random(struct tl_thread *self)
{
    uint64_t x = self->heap_rng;
    if (!x)
        x = 0x9E3779B97F4A7C15ull ^ ((uint64_t)self->id << 32); /* deterministic per thread */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    self->heap_rng = x;
    return x;
}

/* An exponential interval of mean `mean_bytes`: the gaps of a Poisson process over bytes. */
static int64_t next_interval(struct tl_thread *self)
{
    if (mean_bytes <= 1)
        return 1;
    double u = ((double)(next_random(self) >> 11) + 0.5) / 9007199254740992.0; /* (0, 1) */
    double gap = -log(u) * mean_bytes;
    return gap < 1 ? 1 : (int64_t)gap;
}

/* The site of an interned stack: one per stack, kept on the stack record itself. */
static struct tl_site *site_of(struct tl_stack *stack)
{
    if (!stack)
        return NULL;
    void *site = atomic_load_explicit(&stack->site, memory_order_acquire);
    if (site)
        return site;
    struct tl_site *fresh = tl_arena_alloc(sizeof *fresh);
    if (!fresh)
        return NULL;
    fresh->pub.type = TL_PUB_SITE;
    fresh->stack = stack;
    fresh->first_ns = tl_now_ns();
    fresh->id = atomic_fetch_add(&next_site_id, 1);
    if (!atomic_compare_exchange_strong(&stack->site, &site, fresh))
        return site; /* another thread made it first (the arena keeps the spare) */
    struct tl_site *head = atomic_load(&all_sites);
    do {
        fresh->next_all = head;
    } while (!atomic_compare_exchange_weak(&all_sites, &head, fresh));
    tl_publish(&fresh->pub);
    return fresh;
}

static struct tl_sampled *_Atomic all_entries; /* push-only: the exit walk reads it */

static struct tl_sampled *entry_get(void)
{
    tl_spin_lock(&free_lock);
    struct tl_sampled *e = free_entries;
    if (e)
        free_entries = e->next_free;
    tl_spin_unlock(&free_lock);
    if (e)
        return e;
    e = tl_arena_alloc(sizeof *e);
    if (e) {
        struct tl_sampled *head = atomic_load(&all_entries);
        do {
            e->next_all = head;
        } while (!atomic_compare_exchange_weak(&all_entries, &head, e));
    }
    return e;
}

static void entry_put(struct tl_sampled *e)
{
    tl_spin_lock(&free_lock);
    e->next_free = free_entries;
    free_entries = e;
    tl_spin_unlock(&free_lock);
}

/*
 * Counts a sampled block in (+1) or out (-1) of its filter bit's count, and
 * sets the bit while the count is not 0. A count that reached 255 stays
 * there: its blocks are always looked up (never missed).
 */
static void filter_add(const void *p, int delta)
{
    size_t i = tl_heap_filter_index(p);
    tl_spin_lock(&filter_lock);
    unsigned char n = filter_counts[i];
    if (n != UCHAR_MAX && (delta > 0 || n > 0)) {
        filter_counts[i] = (unsigned char)(n + delta);
        uint64_t bit = (uint64_t)1 << (i % 64);
        if (filter_counts[i])
            atomic_fetch_or_explicit(&tl_heap_filter[i / 64], bit, memory_order_relaxed);
        else
            atomic_fetch_and_explicit(&tl_heap_filter[i / 64], ~bit, memory_order_relaxed);
    }
    tl_spin_unlock(&filter_lock);
}

/* The sampled block at `p` is gone: out of the filter and its site's live estimate. */
static void forget(struct tl_thread *self, struct tl_sampled *e, const void *p)
{
    filter_add(p, -1);
    atomic_fetch_sub(&e->site->live_bytes, e->weight_bytes);
    atomic_fetch_sub(&e->site->live_count, e->weight_count);
    self->in_agent++;
    entry_put(e);
    self->in_agent--;
}

static void sample(struct tl_thread *self, void *p, size_t size)
{
    int saved_errno = errno;
    self->in_agent++;
    struct tl_site *site = site_of(tl_stack_capture());
    struct tl_sampled *e = site ? entry_get() : NULL;
    if (e) {
        double prob = mean_bytes <= 1 ? 1.0 : -expm1(-(double)size / mean_bytes);
        e->site = site;
        e->addr = (uintptr_t)p;
        e->size = size;
        e->weight_count = (int64_t)(1.0 / prob + 0.5);
        e->weight_bytes = (int64_t)((double)size / prob + 0.5);
        atomic_fetch_add(&site->live_bytes, e->weight_bytes);
        atomic_fetch_add(&site->live_count, e->weight_count);
        atomic_fetch_add(&site->alloc_bytes, e->weight_bytes);
        filter_add(p, 1); /* before the entry is visible: a free that finds it also sees this */
        struct tl_sampled *old = table_insert(e);
        if (old) /* freed behind our back (an untracked free): drop the stale entry */
            forget(self, old, p);
    } else if (site && !atomic_exchange(&full_logged, 1)) {
        tl_log(TL_LOG_ERROR, "agent memory limit reached; allocation sites are incomplete");
    }
    self->heap_sample_at = atomic_load_explicit(&self->heap_alloc_bytes, memory_order_relaxed) +
                           (uint64_t)next_interval(self);
    self->in_agent--;
    errno = saved_errno;
}

/* The allocation crossed the thread's sampling interval (heap.h). */
__attribute__((noinline, cold)) void tl_heap_sample(struct tl_thread *self, void *p,
                                                      size_t size)
{
    if (self->heap_rng == 0) {
        /* A new thread's first allocation: its sampling point was not set. */
        uint64_t before = atomic_load_explicit(&self->heap_alloc_bytes, memory_order_relaxed) - size;
        self->heap_sample_at = before + (uint64_t)next_interval(self);
        if (self->heap_sample_at > before + size)
            return;
    }
    sample(self, p, size);
}

__attribute__((noinline)) void tl_heap_free_sampled(struct tl_thread *self, void *p)
{
    tl_spin_lock(&table_lock);
    struct tl_sampled *e = table_remove((uintptr_t)p);
    tl_spin_unlock(&table_lock);
    if (e)
        forget(self, e, p);
}

struct tl_site *tl_heap_sites(void)
{
    return atomic_load(&all_sites);
}

/* Walks every entry ever made; an entry is live while the table holds it. */
void tl_heap_for_each_sampled(void (*fn)(const struct tl_sampled *s, void *arg), void *arg)
{
    for (struct tl_sampled *e = atomic_load(&all_entries); e; e = e->next_all) {
        tl_spin_lock(&table_lock);
        struct tl_sampled copy = *e; /* a copy: another thread may free the block meanwhile */
        tl_spin_unlock(&table_lock);
        if (copy.live)
            fn(&copy, arg);
    }
}

void tl_heap_after_fork_child(void)
{
    tl_spin_reset(&free_lock);
    tl_spin_reset(&table_lock);
    tl_spin_reset(&filter_lock);
    /* The child's collector writes the sites again under its own process row. */
    for (struct tl_site *s = atomic_load(&all_sites); s; s = s->next_all) {
        atomic_store(&s->pub.queued, 0);
        tl_publish(&s->pub);
    }
}
