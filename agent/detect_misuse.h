/*
 * detect_misuse.h - `lock-misuse`: unlock of a lock the thread does not hold,
 * destroy of a held lock, relock of a non-recursive lock by its owner (a
 * self-deadlock), thread exit while holding a lock.
 *
 * Called by lockops.c when it sees one of these; each (what, lock, call site)
 * is reported once, so a misuse in a loop is one finding. Cost: nothing on
 * correct operations; a stack capture per new misuse.
 */
#ifndef TL_DETECT_MISUSE_H
#define TL_DETECT_MISUSE_H

#include <stdint.h>

#include "finding.h"
#include "lockmap.h"
#include "stack.h"
#include "thread.h"

/*
 * Reports misuse `what` of the lock at `addr` by `self` at `caller`. `held`
 * is the thread's entry for the lock when it holds it (relock, exit), else NULL.
 */
void tl_misuse_report(struct tl_thread *self, enum tl_misuse what, uintptr_t addr, int kind,
                      struct tl_caller caller, const struct tl_held *held);
void tl_misuse_after_fork_child(void);

/* fork: hold the table lock across fork so the child inherits a consistent table. */
void tl_misuse_fork_prepare(void);
void tl_misuse_fork_parent(void);

#endif
