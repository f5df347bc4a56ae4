/* heap.c - heap counters, allocation sampling and sites (see heap.h). */
#include "heap.h"

#include <errno.h>
#include <limits.h>
#include <math.h>

#include "addrmap.h"
#include "arena.h"
#include "clock.h"
#include "log.h"
#include "spin.h"

#define SAMPLED_ORDER 20 /* sampled blocks alive at once, at most about half of this */
#define SITES_ORDER 16

static double mean_bytes = 512 * 1024;      /* set at init */
static struct tl_addrmap sampled;           /* block address -> struct tl_sampled */
static struct tl_addrmap sites;             /* interned stack -> struct tl_site */
_Atomic unsigned char tl_heap_filter[TL_HEAP_FILTER_SIZE]; /* see heap.h */
static struct tl_site *_Atomic all_sites;
static atomic_uint next_site_id = 1;
static struct tl_spin free_lock = TL_SPIN_INIT;
static struct tl_sampled *free_entries;     /* recycled entries, under free_lock */
static atomic_int full_logged;

int tl_heap_init(double sample_bytes)
{
    mean_bytes = sample_bytes < 1 ? 1 : sample_bytes;
    if (tl_addrmap_init(&sampled, SAMPLED_ORDER) < 0 || tl_addrmap_init(&sites, SITES_ORDER) < 0)
        return -1;
    return 0;
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

static struct tl_site *site_of(struct tl_stack *stack)
{
    struct tl_addrmap_slot *slot = tl_addrmap_slot(&sites, (uintptr_t)stack, 1);
    if (!slot)
        return NULL;
    struct tl_site *site = atomic_load_explicit(&slot->value, memory_order_acquire);
    if (site)
        return site;
    struct tl_site *fresh = tl_arena_alloc(sizeof *fresh);
    if (!fresh)
        return NULL;
    fresh->pub.type = TL_PUB_SITE;
    fresh->stack = stack;
    fresh->first_ns = tl_now_ns();
    fresh->id = atomic_fetch_add(&next_site_id, 1);
    if (!atomic_compare_exchange_strong(&slot->value, &site, fresh))
        return site; /* another thread made it first */
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
 * Counts a sampled block in (+1) or out (-1) of its filter byte. A byte that
 * reached 255 stays there: its blocks are always looked up (never missed).
 */
static void filter_add(const void *p, int delta)
{
    _Atomic unsigned char *f = &tl_heap_filter[tl_heap_filter_index(p)];
    unsigned char n = atomic_load_explicit(f, memory_order_relaxed);
    do {
        if (n == UCHAR_MAX || (delta < 0 && n == 0))
            return;
    } while (!atomic_compare_exchange_weak_explicit(f, &n, (unsigned char)(n + delta),
                                                    memory_order_relaxed, memory_order_relaxed));
}

static void sample(struct tl_thread *self, void *p, size_t size)
{
    int saved_errno = errno;
    self->in_agent++;
    struct tl_site *site = site_of(tl_stack_capture());
    struct tl_addrmap_slot *slot = site ? tl_addrmap_slot(&sampled, (uintptr_t)p, 1) : NULL;
    struct tl_sampled *e = slot ? entry_get() : NULL;
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
        struct tl_sampled *old = atomic_exchange(&slot->value, e);
        if (old) { /* freed behind our back (an untracked free): drop the stale entry */
            filter_add(p, -1);
            entry_put(old);
        }
    } else if (!slot && site && !atomic_exchange(&full_logged, 1)) {
        tl_log(TL_LOG_ERROR, "sampled-allocation table full; allocation sites are incomplete");
    }
    self->heap_until_sample = next_interval(self);
    self->in_agent--;
    errno = saved_errno;
}

/* The allocation crossed the thread's sampling interval (heap.h). */
__attribute__((noinline, cold)) void tl_heap_sample(struct tl_thread *self, void *p,
                                                      size_t size)
{
    if (self->heap_rng == 0) {
        /* A new thread's first allocation: its countdown had not started. */
        self->heap_until_sample += next_interval(self);
        if (self->heap_until_sample > 0)
            return;
    }
    sample(self, p, size);
}

__attribute__((noinline)) void tl_heap_free_sampled(struct tl_thread *self, void *p)
{
    struct tl_addrmap_slot *slot = tl_addrmap_slot(&sampled, (uintptr_t)p, 0);
    if (!slot || !atomic_load_explicit(&slot->value, memory_order_relaxed))
        return;
    struct tl_sampled *e = atomic_exchange(&slot->value, NULL);
    if (!e)
        return;
    filter_add(p, -1);
    atomic_fetch_sub(&e->site->live_bytes, e->weight_bytes);
    atomic_fetch_sub(&e->site->live_count, e->weight_count);
    self->in_agent++;
    entry_put(e);
    self->in_agent--;
}

struct tl_site *tl_heap_sites(void)
{
    return atomic_load(&all_sites);
}

/*
 * Walks the entries, not the table: the table is mostly untouched pages, and
 * reading them all would fault in 16 MiB at every exit. An entry is live
 * when the table still maps its address to it.
 */
void tl_heap_for_each_sampled(void (*fn)(const struct tl_sampled *s, void *arg), void *arg)
{
    for (struct tl_sampled *e = atomic_load(&all_entries); e; e = e->next_all) {
        struct tl_addrmap_slot *slot = e->addr ? tl_addrmap_slot(&sampled, e->addr, 0) : NULL;
        if (slot && atomic_load(&slot->value) == e)
            fn(e, arg);
    }
}

void tl_heap_table_range(uintptr_t *lo, uintptr_t *hi)
{
    *lo = (uintptr_t)sampled.slots;
    *hi = *lo + (sampled.mask + 1) * sizeof *sampled.slots;
}

void tl_heap_after_fork_child(void)
{
    tl_spin_reset(&free_lock);
    /* The child's collector writes the sites again under its own process row. */
    for (struct tl_site *s = atomic_load(&all_sites); s; s = s->next_all) {
        atomic_store(&s->pub.queued, 0);
        tl_publish(&s->pub);
    }
}
