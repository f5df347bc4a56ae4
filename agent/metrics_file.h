/*
 * metrics_file.h - metrics_path=FILE: the collector rewrites FILE every tick
 * with the tick's counters as OpenMetrics text (common/openmetrics.c, the
 * same text as threadlens-top --metrics), for Prometheus's textfile
 * collector or any scraper. Written to FILE.tmp and renamed over FILE, so a
 * reader never sees half a file. Collector thread only.
 */
#ifndef TL_METRICS_FILE_H
#define TL_METRICS_FILE_H

#include "finding.h"
#include "store.h"

/* Writes the file when metrics_path is set; on failure says so once and stops trying. */
void tl_metrics_file_write(const struct tl_process_info *proc, const struct tl_sample *s,
                           const struct tl_finding *findings);

#endif
