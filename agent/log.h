/*
 * log.h - the agent's one-line messages on stderr. Any thread may call it.
 * Formats into a stack buffer and write(2)s once, so it never allocates,
 * never takes stdio's lock and interleaves at most at line granularity.
 * Level comes from the `log` option; errors are always printed.
 */
#ifndef TL_LOG_H
#define TL_LOG_H

#include <stddef.h>

enum tl_log_level { TL_LOG_QUIET, TL_LOG_ERROR, TL_LOG_INFO, TL_LOG_DEBUG };

void tl_log_set_level(enum tl_log_level level);
/*
 * Sends the messages to `path` ("%p" becomes the pid) instead of stderr,
 * appending. Returns 0, or -1 when the file cannot be opened (stderr stays).
 */
int tl_log_set_path(const char *path);
/* Copies `path` to `out` with "%p" replaced by the pid (log_path, metrics_path). */
void tl_expand_pid(const char *path, char *out, size_t size);
void tl_log(enum tl_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
