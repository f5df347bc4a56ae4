/*
 * detect_deadlock.h - deadlocks happening now: a cycle in the wait-for graph
 * (waitgraph.h), any length, including a thread relocking a normal mutex it
 * holds (a cycle of one) and rwlock writer/reader cycles.
 *
 * Runs on the collector each tick. A cycle is reported when the same waits
 * (same threads, same wait episodes) form it in two consecutive ticks, so a
 * torn read of a running thread cannot raise one; the finding is written in
 * that tick and announced on stderr. When a member's wait ends (a timed lock
 * gave up), the finding gets resolved_ns and the episode is never reported
 * again. Known false negatives: waits on objects without an owner (condvars,
 * semaphores, barriers) never close a cycle; a thread blocked by a queued
 * writer of a writer-preferring rwlock. Cost: O(blocked threads) per tick.
 */
#ifndef TL_DETECT_DEADLOCK_H
#define TL_DETECT_DEADLOCK_H

#include <stdint.h>

#include "waitgraph.h"

/* Returns the number of new deadlocks reported this tick. */
int tl_deadlock_tick(const struct tl_waitgraph *g, int64_t now_ns);
/* Whether `t` is part of a deadlock reported and not resolved. */
int tl_deadlock_involves(const struct tl_thread *t);
void tl_deadlock_after_fork_child(void);

#endif
