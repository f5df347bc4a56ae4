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

/* The lock's live record, created on first sight. NULL when tables are full. */
struct tl_lock *tl_lockops_lock(struct tl_thread *self, const void *addr, enum tl_lock_kind kind);
/*
 * Before a blocking acquisition: reports a relock by the owner (self-deadlock)
 * and records the lock order now, before the call can block for ever (a
 * deadlock that happens still shows as the inversion that caused it).
 * Returns the thread's entry for the lock (tl_lockops_find_held), to hand to
 * tl_lockops_acquired().
 */
struct tl_held *tl_lockops_before_block(struct tl_thread *self, struct tl_lock *lock,
                                        const void *addr, enum tl_lock_kind kind, int mode,
                                        const struct tl_caller *caller);
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

/*
 * The real call acquired the lock. `flags` (enum tl_acquire_flags) say whether
 * lock-order edges are still to be recorded. `held` is tl_lockops_find_held()
 * from before the call. `caller` goes by pointer: with seven arguments a
 * struct would be passed on the stack and re-read as one 16-byte load, which
 * store forwarding cannot serve (it was most of this function's cost).
 */
void tl_lockops_acquired(struct tl_thread *self, struct tl_lock *lock, const void *addr,
                         int mode, int flags, const struct tl_caller *caller,
                         struct tl_held *held);
/* Before the real unlock. Reports unlock of a lock not held. */
void tl_lockops_release(struct tl_thread *self, const void *addr, enum tl_lock_kind kind,
                        const struct tl_caller *caller);
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
