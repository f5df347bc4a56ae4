/*
 * procstat.h - what the kernel says about the process, read each tick from
 * /proc/self: resident memory, threads, open file descriptors, context
 * switches. Collector only. Fields it cannot read are -1.
 */
#ifndef TL_PROCSTAT_H
#define TL_PROCSTAT_H

#include <stdint.h>
#include <sys/types.h>

struct tl_procstat {
    int64_t rss_bytes;
    int64_t threads;
    int64_t fds;
    int64_t ctx_voluntary;
    int64_t ctx_involuntary;
};

void tl_procstat_read(struct tl_procstat *out);
/*
 * Reads a /proc file (one read(2): enough for these small files) into buf,
 * NUL-terminated ("" on failure). Returns the bytes read, or -1. Any thread.
 */
ssize_t tl_procfs_read(const char *path, char *buf, size_t size);
/* In /proc status text, where the value of `key` ("\nThreads:") starts, or NULL. */
const char *tl_procfs_field(const char *text, const char *key);

#endif
