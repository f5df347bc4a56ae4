/*
 * lockops.h - what every lock interposer does around the real call, whatever
 * the lock family (pthread mutex, rwlock, spinlock, C11 mtx): find the lock's
 * record, check for relock, record the acquisition (held stack, lock-order
 * edges) and the release, and handle destroy. Called on the calling thread
 * only, with its own record; touches no global lock on the fast path.
 */
#ifndef TL_LOCKOPS_H
#define TL_LOCKOPS_H

#include <stdint.h>

#include "detect_lock_order.h"
#include "lockgraph.h"
#include "lockmap.h"
#include "stack.h"
#include "thread.h"

/* The thread's entry for the lock at `addr`, innermost first; NULL when not held. */
static inline struct tl_held *tl_lockops_find_held(struct tl_thread *self, const void *addr)
{
    for (int i = self->nheld - 1; i >= 0; i--)
        if (self->held[i].addr == (uintptr_t)addr)
            return &self->held[i];
    return NULL;
}

/*
 * Hot-path design (lock, unlock; every lock family):
 *
 *  - The thread's record is one initial-exec TLS load (tl_self).
 *  - The lock's record comes from a per-thread direct-mapped cache indexed by
 *    address (lcache): a hit is the entry's address and then the record's
 *    `live_addr` equal to the address. The entry keeps the address so that a
 *    miss is known without reading the record it holds: under memcached's
 *    thousands of item locks that record was another lock's, out of the CPU
 *    caches, and waiting for it took a fifth of the lock interposer's samples.
 *    Only a miss hashes into the shared lockmap, and only a lock never seen
 *    before creates a record (and unwinds for its first stack).
 *  - Lock order: for each lock already held, one probe of the per-thread edge
 *    cache (ecache) keyed by the two lock ids. An entry whose `steady` bit is
 *    set for the mode pair is an edge this thread can learn nothing new from,
 *    and that cannot change back (evidence only grows, see
 *    detect_lock_order.c), so a hit costs nothing else. Anything else goes
 *    out of line to tl_lock_order_on_acquire(), which looks first at the held
 *    lock's steady successors (a line its acquisition wrote, so a hit costs
 *    no cache miss) and unwinds only for a new edge or mode pair. The
 *    successor slots stay out of this inline path: their loop cost the lock
 *    interposer a stack frame (six saved registers) on every call.
 *  - Counters are the thread's own (plain load and store, summed by the
 *    collector); a write hold bumps the lock's counter with a plain store
 *    too, as the lock itself serialises it. No locked instruction, no system
 *    call on an uncontended acquisition.
 *  - Everything above is inline in the interposer; the functions called out
 *    of line are the slow paths (misses, misuse, new facts).
 */

/* The lock's live record, created on first sight. NULL when tables are full. Slow path. */
struct tl_lock *tl_lockops_lock_slow(struct tl_thread *self, const void *addr,
                                     enum tl_lock_kind kind, struct tl_lcache_entry *c);

static inline struct tl_lcache_entry *tl_lockops_lcache(struct tl_thread *self, uintptr_t a)
{
    return &self->lcache[(a >> 4 ^ a >> 12) & (TL_LCACHE_SIZE - 1)];
}

/*
 * The lock's record when the thread's cache has it, else NULL. The entry may
 * hold another address's record, or a record retired since (another thread
 * destroyed the lock) and perhaps recycled for a lock elsewhere: `live_addr`
 * tells all three apart. A record recycled for a new lock at this very
 * address is that lock's live record, so a hit on it is right.
 */
static inline struct tl_lock *tl_lockops_cached(struct tl_thread *self, const void *addr)
{
    const struct tl_lcache_entry *c = tl_lockops_lcache(self, (uintptr_t)addr);
    if (__builtin_expect(c->addr != (uintptr_t)addr, 0))
        return NULL;
    struct tl_lock *l = c->lock; /* NULL only in an empty entry, when addr is NULL */
    if (__builtin_expect(l != NULL, 1) &&
        atomic_load_explicit(&l->live_addr, memory_order_acquire) == (uintptr_t)addr)
        return l;
    return NULL;
}

/* The lock's live record, created on first sight. NULL when tables are full. */
static inline struct tl_lock *tl_lockops_lock(struct tl_thread *self, const void *addr,
                                              enum tl_lock_kind kind)
{
    struct tl_lock *l = tl_lockops_cached(self, addr);
    if (__builtin_expect(l != NULL, 1))
        return l;
    return tl_lockops_lock_slow(self, addr, kind, tl_lockops_lcache(self, (uintptr_t)addr));
}

/*
 * Whether the edge from held entry `h` to `lock` (in this mode pair) is
 * nothing to record: no edge at all (an untracked lock, or the same record),
 * or one this thread's edge cache knows as steady.
 */
static inline int tl_lockops_edge_known(struct tl_thread *self, const struct tl_held *h,
                                        const struct tl_lock *lock, int mode)
{
    if (!h->lock || h->lock == lock)
        return 1;
    uint64_t key = tl_edge_key(h->lock, lock);
    const struct tl_ecache_entry *c = tl_ecache_slot(self, key);
    return c->key == key && (c->steady & TL_MODE_BIT(h->mode, mode));
}

/* Whether every edge from a held lock to `lock` (in this mode pair) is known: nothing to record. */
static inline int tl_lockops_order_known(struct tl_thread *self, const struct tl_lock *lock,
                                         int mode)
{
    for (int i = 0; i < self->nheld; i++)
        if (!tl_lockops_edge_known(self, &self->held[i], lock, mode))
            return 0;
    return 1;
}

/*
 * The fast path's check before a write acquisition (pthread_mutex_lock): the
 * lock at `addr` is not held by this thread already, and every edge to it is
 * known. This is one held entry's part.
 */
static inline int tl_lockops_fresh_and_ordered_after(struct tl_thread *self,
                                                     const struct tl_held *h,
                                                     const struct tl_lock *lock, const void *addr)
{
    return h->addr != (uintptr_t)addr && tl_lockops_edge_known(self, h, lock, TL_MODE_WRITE);
}

/* The same check over the whole held stack, with the held locks' steady successors. */
int tl_lockops_fresh_and_ordered_deep(struct tl_thread *self, const struct tl_lock *lock,
                                      const void *addr);

/* Records the order `held locks -> lock`: inline when every edge is known. */
static inline void tl_lockops_order(struct tl_thread *self, struct tl_lock *lock, int mode,
                                    const struct tl_caller *caller)
{
    if (__builtin_expect(!tl_lockops_order_known(self, lock, mode), 0))
        tl_lock_order_on_acquire(self, lock, mode, caller);
}

/* Slow half of tl_lockops_before_block(): the lock is in the held stack already. */
struct tl_held *tl_lockops_relock(struct tl_thread *self, const void *addr,
                                  enum tl_lock_kind kind, int mode,
                                  const struct tl_caller *caller, struct tl_held *h);

/*
 * Before a blocking acquisition: reports a relock by the owner (self-deadlock)
 * and records the lock order now, before the call can block for ever (a
 * deadlock that happens still shows as the inversion that caused it).
 * Returns the thread's entry for the lock (tl_lockops_find_held), to hand to
 * tl_lockops_acquired().
 */
static inline struct tl_held *tl_lockops_before_block(struct tl_thread *self,
                                                      struct tl_lock *lock, const void *addr,
                                                      enum tl_lock_kind kind, int mode,
                                                      const struct tl_caller *caller)
{
    struct tl_held *h = tl_lockops_find_held(self, addr);
    if (__builtin_expect(!h, 1)) {
        if (lock && self->nheld > 0)
            tl_lockops_order(self, lock, mode, caller);
        return NULL;
    }
    return tl_lockops_relock(self, addr, kind, mode, caller, h);
}

/*
 * The acquisition is about to wait (the lock is taken). Counts it and returns
 * the wait's start (monotonic ns, never 0) for tl_lockops_waited().
 */
int64_t tl_lockops_contended(struct tl_thread *self, struct tl_lock *lock);
/* The contended acquisition that started at `since` returned: adds its wait time. */
void tl_lockops_waited(struct tl_lock *lock, int64_t since);
enum tl_acquire_flags {
    TL_ACQ_TRYLOCK = 1, /* a successful trylock: it never waited, so it adds no order */
    TL_ACQ_ORDERED = 2, /* tl_lockops_before_block() recorded the order already */
};

/* Only the owner writes its counters: a plain load and store, no locked instruction. */
static inline void tl_lockops_bump(_Atomic uint64_t *counter)
{
    uint64_t n = atomic_load_explicit(counter, memory_order_relaxed);
    atomic_store_explicit(counter, n + 1, memory_order_relaxed);
}

/*
 * The real call acquired the lock. `flags` (enum tl_acquire_flags) say whether
 * lock-order edges are still to be recorded. `held` is tl_lockops_find_held()
 * from before the call.
 */
static inline void tl_lockops_acquired(struct tl_thread *self, struct tl_lock *lock,
                                       const void *addr, int mode, int flags,
                                       const struct tl_caller *caller, struct tl_held *h)
{
    tl_lockops_bump(&self->acquisitions);
    if (lock) {
        if (mode == TL_MODE_WRITE) /* write holds are serialised by the lock itself */
            tl_lockops_bump(&lock->acquisitions);
        else
            atomic_fetch_add_explicit(&lock->acquisitions, 1, memory_order_relaxed);
    }
    if (__builtin_expect(h && h->lock == lock, 0)) {
        h->recursion++; /* recursive mutex or recursive read: no new order */
        return;
    }
    if (lock && !flags && self->nheld > 0)
        tl_lockops_order(self, lock, mode, caller);
    if (__builtin_expect(self->nheld == TL_MAX_HELD, 0)) {
        self->untracked++;
        return;
    }
    struct tl_held *e = &self->held[self->nheld++];
    e->lock = lock;
    e->addr = (uintptr_t)addr;
    /*
     * Two 8-byte copies on purpose: the interposer stored `caller` as two
     * words just before, and a merged 16-byte load cannot be served by store
     * forwarding (it stalls for longer than the rest of this function).
     */
    e->caller.pc = *(const volatile uintptr_t *)&caller->pc;
    e->caller.cfa = *(const volatile uintptr_t *)&caller->cfa;
    e->recursion = 0;
    e->mode = (uint8_t)mode;
    e->trylock = (uint8_t)(flags & TL_ACQ_TRYLOCK);
}

/* Slow half of tl_lockops_release(): not the innermost hold, or not held at all. */
void tl_lockops_release_slow(struct tl_thread *self, const void *addr, enum tl_lock_kind kind,
                             const struct tl_caller *caller);

/*
 * The common release: the lock at `addr` is the innermost hold, taken once.
 * Pops it and returns 1; else 0, for tl_lockops_release_slow().
 */
static inline int tl_lockops_release_innermost(struct tl_thread *self, const void *addr)
{
    int top = self->nheld - 1;
    if (__builtin_expect(top >= 0 && self->held[top].addr == (uintptr_t)addr &&
                             self->held[top].recursion == 0, 1)) {
        self->nheld = top;
        return 1;
    }
    return 0;
}

/* Before the real unlock. Reports unlock of a lock not held. */
static inline void tl_lockops_release(struct tl_thread *self, const void *addr,
                                      enum tl_lock_kind kind, const struct tl_caller *caller)
{
    if (!tl_lockops_release_innermost(self, addr))
        tl_lockops_release_slow(self, addr, kind, caller);
}

/* Before the real destroy: reports destroy of a held lock. */
void tl_lockops_before_destroy(struct tl_thread *self, const void *addr, enum tl_lock_kind kind,
                               const struct tl_caller *caller);
/*
 * The lock at `addr` is gone (destroyed) or new (initialised): any record at
 * this address belongs to a previous lock and is retired.
 */
void tl_lockops_retire(struct tl_thread *self, const void *addr);
/* The thread is finishing: reports locks it still holds. */
void tl_lockops_thread_exit(struct tl_thread *t);
/* Fork child: the forking thread's held locks get records in the fresh tables. */
void tl_lockops_after_fork_child(struct tl_thread *t);

#endif
