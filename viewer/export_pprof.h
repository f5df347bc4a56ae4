/*
 * export_pprof.h - threadlens-top --pprof KIND: one process of a database as
 * a gzip-compressed profile.proto (github.com/google/pprof), the format of
 * `go tool pprof`, Pyroscope and Parca. Kinds:
 *   heap     alloc_objects, alloc_space, inuse_objects, inuse_space per
 *            allocation site (alloc_site, the site's latest site_sample)
 *   mutex    contentions and delay per lock, at the lock's first stack
 *   threads  threads created per creation stack (threadcreate), and how
 *            many of them were still alive at the end
 * Reads the database inside one read transaction; writes nothing else.
 */
#ifndef TL_EXPORT_PPROF_H
#define TL_EXPORT_PPROF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "db.h"

#define TL_PPROF_ANY_PID (-1) /* pid argument: the database's first process */
#define TL_PPROF_DEFAULT_PERIOD 524288 /* the agent's default sample_bytes */

int tl_pprof_kind_valid(const char *kind);
int tl_export_pprof(struct tl_db *db, const char *kind, int64_t pid, FILE *out, char *err,
                    size_t errlen);

#endif
