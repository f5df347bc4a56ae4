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
 * lock (e.g. a phase barrier). Cost per acquisition: one per-thread cache
 * probe per held lock; new facts unwind the stack once.
 */
#ifndef TL_DETECT_LOCK_ORDER_H
#define TL_DETECT_LOCK_ORDER_H

#include "finding.h"
#include "lockmap.h"
#include "stack.h"
#include "thread.h"

/* `self` acquired `lock` in `mode` (not yet on its held stack). */
void tl_lock_order_on_acquire(struct tl_thread *self, struct tl_lock *lock, int mode);
/* The severity the evidence supports now (enum tl_severity). */
int tl_lock_order_severity(const struct tl_finding *f);
void tl_lock_order_after_fork_child(void);

#endif
