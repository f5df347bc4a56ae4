/*
 * addrmap.h - a lock-free open-addressing map from a non-zero word (an
 * address, or two packed ids) to a pointer. Used for lock records (lockmap),
 * lock-order edges (lockgraph) and thread handles (thread).
 *
 * Readers probe without locks; inserting a key is a CAS on an empty slot, so
 * any thread may insert. Keys are never removed: a slot whose value was
 * cleared stays reserved for its key, which is what an address-keyed table
 * wants (the next lock at that address reuses the slot). Storage is one
 * mmap'd array, touched lazily; when probing finds no free slot within the
 * probe limit the map is full and the caller degrades.
 */
#ifndef TL_ADDRMAP_H
#define TL_ADDRMAP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct tl_addrmap_slot {
    _Atomic uintptr_t key;   /* 0 = empty; set once by CAS */
    void *_Atomic value;     /* owner-defined; NULL = no value */
};

struct tl_addrmap {
    struct tl_addrmap_slot *slots; /* mmap'd, 2^order entries */
    size_t mask;
};

/* Returns 0, or TL_ENOMEM when the mapping fails. */
int tl_addrmap_init(struct tl_addrmap *m, unsigned order);
/*
 * Returns the slot of `key`, inserting the key when `create` is set; NULL when
 * absent (create == 0) or when the map is full.
 */
struct tl_addrmap_slot *tl_addrmap_slot(struct tl_addrmap *m, uintptr_t key, int create);
/* Forgets every key (fork child). Not safe against concurrent users. */
void tl_addrmap_clear(struct tl_addrmap *m);

/*
 * An addrmap that starts small and doubles once half its slots hold keys, up
 * to a largest order. Every probe of a big table costs a TLB miss and a cache
 * miss (at 2M slots, 32 MB), which is what a hot path pays on each miss of a
 * thread's own cache; a table sized to what is in it stays in the caches.
 * Writers (a new key, a value set or cleared) hold a lock of the owner's,
 * which the doubling runs under: it copies the keys that have a value into
 * the next table, publishes it and empties the old one (MADV_DONTNEED). A
 * lock-free lookup that raced it sees `current` change and probes again.
 */
#define TL_GROWMAP_TABLES 16

struct tl_growmap {
    struct tl_addrmap tables[TL_GROWMAP_TABLES]; /* tables[0] first, each twice the last */
    struct tl_addrmap *_Atomic current;
    unsigned index, order, max_order, keys;      /* under the owner's lock */
};

int tl_growmap_init(struct tl_growmap *g, unsigned min_order, unsigned max_order);
/* The value of `key`, or NULL. Lock-free. */
void *tl_growmap_find(struct tl_growmap *g, uintptr_t key);
/* tl_addrmap_slot() on the current table, doubling it first when due. Owner's lock held. */
struct tl_addrmap_slot *tl_growmap_slot(struct tl_growmap *g, uintptr_t key, int create);
/* Forgets every key (fork child, the owner's lock reset). */
void tl_growmap_clear(struct tl_growmap *g);

#endif
