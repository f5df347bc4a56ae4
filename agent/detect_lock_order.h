/*
 * detect_lock_order.h - lock-order inversions (potential deadlocks).
 *
 * Consumes: every blocking acquisition made while other locks are held
 * (trylocks add no edge into the tried lock). For each held lock H it records
 * or confirms the edge H -> acquired lock; a new edge, or a mode pair not
 * seen before on an edge, runs the cycle search and reports each new cycle
 * once as a `lock-order-inversion`.
 *
 * Severity (re-evaluated by the collector as evidence grows): info when one
 * lock was held across every acquisition of every edge of the cycle (a gate);
 * else error when two or more threads took its edges; else warning (one
 * thread took both orders: it deadlocks once the paths run concurrently).
 *
 * Known false negatives: a cycle longer than TL_MAX_CYCLE; orders past a full
 * graph. Known false positives: orders made safe by means other than a common
 * lock (e.g. a phase barrier). Cost per acquisition, per held lock: one
 * per-thread cache probe; on a miss, a look at the held lock's steady
 * successors, then the graph; new facts unwind the stack once.
 */
#ifndef TL_DETECT_LOCK_ORDER_H
#define TL_DETECT_LOCK_ORDER_H

#include "finding.h"
#include "lockmap.h"
#include "stack.h"
#include "thread.h"

/* A steady_out word (lockmap.h) naming `to_id` for `thread`, mode bits clear. */
static inline uint64_t tl_steady_out_word(uint32_t to_id, uint32_t thread)
{
    return (uint64_t)to_id << 32 | (uint64_t)thread << 4;
}

/*
 * Whether `from`'s steady successors say that `thread` has nothing to learn
 * from the edge from -> (lock `to_id`) in mode pair `bit`: a slot for this
 * thread or for every thread. A thread id too large for the slot's field
 * matches only slots for every thread.
 */
static inline int tl_lock_order_steady_out(const struct tl_lock *from, uint32_t to_id,
                                           uint32_t thread, unsigned bit)
{
    uint64_t anyone = tl_steady_out_word(to_id, 0);
    uint64_t mine = thread <= TL_STEADY_THREAD_MAX ? tl_steady_out_word(to_id, thread) : anyone;
    for (int i = 0; i < TL_LOCK_STEADY_OUT; i++) {
        uint64_t w = atomic_load_explicit(&from->steady_out[i], memory_order_relaxed);
        uint64_t who = w & ~(uint64_t)0xf;
        if ((who == mine || who == anyone) && (w & bit))
            return 1;
    }
    return 0;
}

/*
 * `self` acquired `lock` in `mode` (not yet on its held stack), called from
 * `caller` (TL_CALLER() in the interposer; NULL when unknown).
 */
void tl_lock_order_on_acquire(struct tl_thread *self, struct tl_lock *lock, int mode,
                              const struct tl_caller *caller);
/* The severity the evidence supports now (enum tl_severity). */
int tl_lock_order_severity(const struct tl_finding *f);
void tl_lock_order_after_fork_child(void);

#endif
