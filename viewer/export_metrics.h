/*
 * export_metrics.h - threadlens-top --metrics: the latest tick of each
 * process of a database as OpenMetrics text (common/openmetrics.c, the same
 * writer the agent can use live). A pid that exec'ed is one process: its
 * last image is the one shown. Reads in one read transaction.
 */
#ifndef TL_EXPORT_METRICS_H
#define TL_EXPORT_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "db.h"

int tl_export_metrics(struct tl_db *db, int64_t pid, FILE *out, char *err, size_t errlen);

#endif
