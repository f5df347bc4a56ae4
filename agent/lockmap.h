/*
 * lockmap.h - lock records, found by the lock object's address through a
 * lock-free addrmap. A record is created on a lock's first operation (or its
 * init) and retired by destroy: the slot is cleared, so a new lock at the same
 * address (heap memory reused) gets a new record with a new id and none of the
 * old one's edges. Any thread looks up and creates; the collector writes rows
 * after tl_publish(). Records live in the arena.
 *
 * Recycling: a retired record whose row is written goes back to a free list
 * (tl_lockmap_recycle, collector only), two passes later, unless it is
 * pinned: part of a lock-order edge or of a misuse finding, whose records
 * keep pointing at it. So a program that makes and destroys locks for ever
 * costs the agent the locks alive at once, not every lock ever made.
 * Per-thread caches that may still point at a retired or recycled record
 * check its `live_addr` against the address they look for (lockops.h).
 */
#ifndef TL_LOCKMAP_H
#define TL_LOCKMAP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "publish.h"
#include "stack.h"

enum tl_lock_kind { TL_LOCK_MUTEX, TL_LOCK_RWLOCK, TL_LOCK_SPIN, TL_LOCK_C11 };

struct tl_edge;

/*
 * Steady successors: up to TL_LOCK_STEADY_OUT lock-order edges out of this
 * lock that a thread has nothing left to learn from (the edge cache's
 * `steady`, detect_lock_order.c), each packed in one word:
 * to id << 32 | thread id << 4 | TL_MODE_BIT set, thread 0 meaning every
 * thread. They share the line an acquisition writes (`acquisitions`), so a
 * nested acquisition of a known successor reads no other line: memcached
 * hashes items over thousands of locks, each with five successors, and the
 * per-thread edge cache missed on nearly every request. Slots are filled
 * once and never replaced, so two threads with different successors cannot
 * keep evicting each other's.
 */
#define TL_LOCK_STEADY_OUT 5
#define TL_STEADY_THREAD_MAX 0x0fffffffu /* thread ids above it are not cached */

struct tl_lock {
    /* The first line holds everything an uncontended acquisition touches. */
    _Atomic uintptr_t live_addr;   /* `addr` while live; 0 once retired or while reset */
    _Atomic uint64_t acquisitions; /* write holds: bumped under the lock itself */
    uint32_t id;                   /* per process, from 1 */
    uint8_t kind;                  /* enum tl_lock_kind */
    atomic_uchar retired;          /* destroyed; no new edges reach it */
    atomic_uchar pinned;           /* referenced by an edge or a finding: never recycled */
    _Atomic uint64_t steady_out[TL_LOCK_STEADY_OUT];
    struct tl_pub pub;             /* collector queue link */
    uintptr_t addr;                /* the lock object */
    uint32_t first_thread;         /* thread that first used it */
    struct tl_stack *first_stack;  /* where it was first used or initialised */
    int64_t created_ns;
    _Atomic int64_t destroyed_ns;  /* 0 while alive */
    _Atomic uint64_t contentions;  /* acquisitions that had to wait */
    _Atomic uint64_t wait_ns;      /* total time those waits took */
    _Atomic uint64_t wait_max_ns;  /* the longest one */
    uint64_t written_counts;       /* collector only: the counts in the row, mixed (store.c) */
    struct tl_lock *next_all;      /* list of every record, immutable once pushed */
    /* Lock-order graph, under the graph lock (lockgraph.c). */
    struct tl_edge *out;           /* edges from this lock */
    uint32_t bfs_gen[2];           /* visit marks, one per arrival mode */
    unsigned limbo_pass;           /* collector only: recycling pass that unlinked it */
    unsigned limbo_drains;         /* collector only: drained passes by then */
} __attribute__((aligned(64)));

_Static_assert(offsetof(struct tl_lock, steady_out) + sizeof(uint64_t) * TL_LOCK_STEADY_OUT <= 64,
               "a lock record's hot fields fit one cache line");
/* A million live locks cost a million records: three lines each, as before the slots. */
_Static_assert(sizeof(struct tl_lock) == 192, "a lock record is three cache lines");

int tl_lockmap_init(unsigned order);
/* The live record for `addr`, or NULL when unknown. Lock-free. */
struct tl_lock *tl_lockmap_find(uintptr_t addr);
/*
 * The live record for `addr`, created when unknown (with the caller's stack
 * when `self` is given). NULL when the map or the arena is full.
 */
struct tl_lock *tl_lockmap_get(uintptr_t addr, enum tl_lock_kind kind, uint32_t thread_id,
                               int capture_stack);
/* `l` (may be NULL) is referenced for good (an edge, a finding): it is never recycled. */
static inline void tl_lockmap_pin(struct tl_lock *l)
{
    if (l && !atomic_load_explicit(&l->pinned, memory_order_relaxed))
        atomic_store(&l->pinned, 1);
}
/*
 * Collector only, after each pass's writes: retired records that are
 * written and unpinned leave the list of all records, and go back to the
 * free list two passes later (lockmap.c says why that is enough). `drained`:
 * the pass wrote everything it had taken from the publish queue.
 * `thorough`: a tick, which always looks at every record; a drain pass looks
 * only once enough were retired since.
 */
void tl_lockmap_recycle(int drained, int thorough);
/* Retires the record of `addr`, if any. */
void tl_lockmap_retire(uintptr_t addr);
uint32_t tl_lockmap_count(void);
/* Every record in use in this process, newest first (retired ones too, until recycled). */
struct tl_lock *tl_lockmap_all(void);
const char *tl_lock_kind_name(int kind);
/* Fork child: forget every lock. */
void tl_lockmap_after_fork_child(void);

#endif
