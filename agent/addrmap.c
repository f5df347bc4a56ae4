/* addrmap.c - lock-free address-keyed map (see addrmap.h). */
#include "addrmap.h"

#include <sys/mman.h>

#include "arena.h"
#include "errors.h"

#define MAX_PROBES 256

int tl_addrmap_init(struct tl_addrmap *m, unsigned order)
{
    size_t n = (size_t)1 << order;
    void *p = mmap(NULL, n * sizeof(struct tl_addrmap_slot), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return TL_ENOMEM;
    m->slots = p;
    m->mask = n - 1;
    tl_region_add(p, n * sizeof(struct tl_addrmap_slot));
    return 0;
}

static inline size_t hash_key(uintptr_t key)
{
    /* Fibonacci hashing: lock addresses are 8- or 16-byte aligned, so mix high bits down. */
    uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15ull;
    return (size_t)(h ^ (h >> 29));
}

struct tl_addrmap_slot *tl_addrmap_slot(struct tl_addrmap *m, uintptr_t key, int create)
{
    if (!m->slots)
        return NULL;
    size_t i = hash_key(key) & m->mask;
    for (int probe = 0; probe < MAX_PROBES; probe++, i = (i + 1) & m->mask) {
        struct tl_addrmap_slot *s = &m->slots[i];
        uintptr_t k = atomic_load_explicit(&s->key, memory_order_acquire);
        if (k == key)
            return s;
        if (k != 0)
            continue;
        if (!create)
            return NULL;
        uintptr_t expected = 0;
        if (atomic_compare_exchange_strong_explicit(&s->key, &expected, key,
                                                    memory_order_acq_rel,
                                                    memory_order_acquire))
            return s;
        if (expected == key)
            return s; /* another thread inserted the same key first */
    }
    return NULL;
}

void tl_addrmap_clear(struct tl_addrmap *m)
{
    if (!m->slots)
        return;
    /* Private anonymous memory reads back as zeros after MADV_DONTNEED, for free. */
    madvise(m->slots, (m->mask + 1) * sizeof(struct tl_addrmap_slot), MADV_DONTNEED);
}

/* Inserts every key of `from` that has a value into `to`. Returns how many, or TL_EFULL. */
static int copy_live(struct tl_addrmap *to, struct tl_addrmap *from)
{
    int copied = 0;
    for (size_t i = 0; i <= from->mask; i++) {
        struct tl_addrmap_slot *s = &from->slots[i];
        uintptr_t key = atomic_load_explicit(&s->key, memory_order_relaxed);
        void *value = atomic_load_explicit(&s->value, memory_order_relaxed);
        if (!key || !value)
            continue;
        struct tl_addrmap_slot *t = tl_addrmap_slot(to, key, 1);
        if (!t)
            return TL_EFULL;
        atomic_store_explicit(&t->value, value, memory_order_relaxed);
        copied++;
    }
    return copied;
}

int tl_growmap_init(struct tl_growmap *g, unsigned min_order, unsigned max_order)
{
    g->max_order = max_order;
    g->order = min_order < max_order ? min_order : max_order;
    int rc = tl_addrmap_init(&g->tables[0], g->order);
    atomic_store_explicit(&g->current, &g->tables[0], memory_order_release);
    return rc;
}

/*
 * A probe that read a table being emptied sees `current` changed: the
 * emptying is a system call made after the release store of the new table
 * (and its TLB shootdown interrupts every CPU that maps the old one).
 */
void *tl_growmap_find(struct tl_growmap *g, uintptr_t key)
{
    for (;;) {
        struct tl_addrmap *m = atomic_load_explicit(&g->current, memory_order_acquire);
        struct tl_addrmap_slot *s = tl_addrmap_slot(m, key, 0);
        void *value = s ? atomic_load_explicit(&s->value, memory_order_acquire) : NULL;
        if (value || m == atomic_load_explicit(&g->current, memory_order_acquire))
            return value;
    }
}

static void grow_if_half_full(struct tl_growmap *g)
{
    if (g->keys < (1u << g->order) / 2 || g->order >= g->max_order ||
        g->index + 1 == TL_GROWMAP_TABLES)
        return;
    struct tl_addrmap *old = &g->tables[g->index], *bigger = &g->tables[g->index + 1];
    int copied = tl_addrmap_init(bigger, g->order + 1) < 0 ? -1 : copy_live(bigger, old);
    if (copied < 0) {
        g->max_order = g->order; /* stay with this one: it has room left for probing */
        return;
    }
    g->index++;
    g->order++;
    g->keys = (unsigned)copied; /* keys whose value was cleared stay behind */
    /* Release: a lookup that sees the new table sees the copied slots. */
    atomic_store_explicit(&g->current, bigger, memory_order_release);
    tl_addrmap_clear(old);
}

struct tl_addrmap_slot *tl_growmap_slot(struct tl_growmap *g, uintptr_t key, int create)
{
    if (create)
        grow_if_half_full(g);
    struct tl_addrmap *m = atomic_load_explicit(&g->current, memory_order_relaxed);
    struct tl_addrmap_slot *s = tl_addrmap_slot(m, key, 0);
    if (!s && create && (s = tl_addrmap_slot(m, key, 1)) != NULL)
        g->keys++;
    return s;
}

void tl_growmap_clear(struct tl_growmap *g)
{
    tl_addrmap_clear(atomic_load_explicit(&g->current, memory_order_relaxed));
    g->keys = 0;
}
