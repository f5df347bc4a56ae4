/*
 * detect_limits.h - `limit-exceeded`: a configured maximum (max_threads,
 * max_tasks, max_heap, max_rss) crossed. Reported in the tick the sample
 * first exceeds it, once per crossing: the value must fall back to the
 * limit or below before a new crossing counts. Severity error, so CI can
 * gate on it. Collector only; O(1) per tick.
 */
#ifndef TL_DETECT_LIMITS_H
#define TL_DETECT_LIMITS_H

#include "store.h"

void tl_limits_tick(const struct tl_sample *s);
void tl_limits_after_fork_child(void);

#endif
