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
 * Inserts every key of `from` whose value is set into `to`, with its value.
 * Returns 0, or TL_EFULL. The caller keeps inserters out of `from` meanwhile.
 */
int tl_addrmap_copy(struct tl_addrmap *to, struct tl_addrmap *from);

#endif
