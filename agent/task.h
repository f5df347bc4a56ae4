/*
 * task.h - the task API's records (agent/include/threadlens.h is the public
 * side). A task is queued by threadlens_task_submit(), runs from
 * threadlens_task_start() and ends at threadlens_task_end(); each change
 * stamps the time and the thread and publishes the record (TL_PUB_TASK), and
 * the collector writes it as a `task` row with tl_task_write().
 *
 * Records are cache-line sized, carved from the arena in slabs and never
 * freed. Application threads take them from a per-thread free list, refilled
 * in batches from a global pool (pool_lock, a tl_spin: once per batch, never
 * per call). The collector gives a record back to the pool once it has
 * written the record's end. A handle is the record's slot number and its
 * generation, bumped on every reuse: a stale or bogus handle is recognised
 * and ignored, never dereferenced outside the slab table.
 *
 * Concurrency: a record's `word` (generation, change sequence, busy bit,
 * state) is its lock. A call CASes the busy bit on, changes the fields, and
 * stores the new word; the collector and the exit detector read the fields
 * seqlock style and retry or skip when the word moved. Counters are
 * per-thread, written by their thread only, summed by the collector.
 */
#ifndef TL_TASK_H
#define TL_TASK_H

#include <stdint.h>

#include "publish.h"

/* Collector: writes the task row of a TL_PUB_TASK record, and recycles it once ended. */
void tl_task_write(struct tl_pub *p);
/*
 * Collector (sample): tasks started and not ended, queued and not started,
 * and submitted in all, in this process. Can't fail.
 */
void tl_task_counts(int64_t *in_flight, int64_t *queued, int64_t *total);
/*
 * Exit flush (collector_lock held, guard set): one `task-leak` warning per
 * submit call site of the tasks queued or running now.
 */
void tl_task_leak_at_exit(void);
/* Fork child: only the forking thread survives; every task of the parent is forgotten. */
void tl_task_after_fork_child(void);

#endif
