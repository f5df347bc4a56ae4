/*
 * export_trace.h - threadlens-top --trace: a database as Chrome trace event
 * JSON ({"traceEvents": [...], "displayTimeUnit": "ns"}), which Perfetto UI
 * and chrome://tracing open. Per process: name metadata, a complete event per
 * thread lifetime, task runs nested in their thread, task queue waits as
 * async spans, current lock and other waits longer than TL_TRACE_MIN_WAIT_NS,
 * findings as instant events, and counters from every sample. Timestamps are
 * microseconds since the first process started. Reads in one transaction.
 */
#ifndef TL_EXPORT_TRACE_H
#define TL_EXPORT_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "db.h"

#define TL_TRACE_MIN_WAIT_NS 1000000 /* waits shorter than 1 ms are left out */

int tl_export_trace(struct tl_db *db, int64_t pid, FILE *out, char *err, size_t errlen);

#endif
