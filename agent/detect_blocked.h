/*
 * detect_blocked.h - `blocked-thread`: a thread in the same wait episode for
 * longer than `block_threshold` (timed by the collector's ticks, so the
 * duration is known to within one interval), reported once per episode;
 * and, at exit, every thread still blocked. Severity: warning for a lock
 * wait whose owner is itself blocked (a chain that may never move), info for
 * the rest (a worker idle on its condvar is designed to wait). Threads in a
 * reported deadlock are left to that finding. Collector only; O(threads).
 */
#ifndef TL_DETECT_BLOCKED_H
#define TL_DETECT_BLOCKED_H

#include <stdint.h>

#include "waitgraph.h"

void tl_blocked_tick(const struct tl_waitgraph *g, int64_t now_ns, int64_t threshold_ns);
/* At exit: blocked threads other than `exiting` not reported in this episode yet. */
void tl_blocked_at_exit(const struct tl_waitgraph *g, const struct tl_thread *exiting,
                        int64_t now_ns);

#endif
