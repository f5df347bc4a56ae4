/*
 * lockmap.h - lock records, found by the lock object's address through a
 * lock-free addrmap. A record is created on a lock's first operation (or its
 * init) and retired by destroy: the slot is cleared, so a new lock at the same
 * address (heap memory reused) gets a new record with a new id and none of the
 * old one's edges. Any thread looks up and creates; the collector writes rows
 * after tl_publish(). Records live in the arena and are never freed.
 */
#ifndef TL_LOCKMAP_H
#define TL_LOCKMAP_H

#include <stdatomic.h>
#include <stdint.h>

#include "publish.h"
#include "stack.h"

enum tl_lock_kind { TL_LOCK_MUTEX, TL_LOCK_RWLOCK, TL_LOCK_SPIN, TL_LOCK_C11 };

struct tl_edge;

struct tl_lock {
    struct tl_pub pub;             /* collector queue link */
    uint32_t id;                   /* per process, from 1 */
    uint8_t kind;                  /* enum tl_lock_kind */
    atomic_uchar retired;          /* destroyed; no new edges reach it */
    uintptr_t addr;                /* the lock object */
    uint32_t first_thread;         /* thread that first used it */
    struct tl_stack *first_stack;  /* where it was first used or initialised */
    int64_t created_ns;
    _Atomic int64_t destroyed_ns;  /* 0 while alive */
    _Atomic uint64_t acquisitions; /* write holds: bumped under the lock itself */
    _Atomic uint64_t contentions;  /* acquisitions that had to wait */
    _Atomic uint64_t wait_ns;      /* total time those waits took */
    _Atomic uint64_t wait_max_ns;  /* the longest one */
    uint64_t written_wait;         /* collector only */
    struct tl_lock *next_all;      /* list of every record, immutable once pushed */
    uint64_t written_acq;          /* collector only: counts in the row */
    uint64_t written_cont;         /* collector only */
    /* Lock-order graph, under the graph lock (lockgraph.c). */
    struct tl_edge *out;           /* edges from this lock */
    uint32_t bfs_gen[2];           /* visit marks, one per arrival mode */
    struct tl_edge *bfs_via[2];    /* edge the search arrived by */
    uint8_t bfs_via_mode[2];       /* mode of the state it came from */
};

int tl_lockmap_init(unsigned order);
/* The live record for `addr`, or NULL when unknown. Lock-free. */
struct tl_lock *tl_lockmap_find(uintptr_t addr);
/*
 * The live record for `addr`, created when unknown (with the caller's stack
 * when `self` is given). NULL when the map or the arena is full.
 */
struct tl_lock *tl_lockmap_get(uintptr_t addr, enum tl_lock_kind kind, uint32_t thread_id,
                               int capture_stack);
/* Retires the record of `addr`, if any. */
void tl_lockmap_retire(uintptr_t addr);
uint32_t tl_lockmap_count(void);
/* Every record created in this process, newest first (retired ones too). */
struct tl_lock *tl_lockmap_all(void);
const char *tl_lock_kind_name(int kind);
/* Fork child: forget every lock. */
void tl_lockmap_after_fork_child(void);

#endif
