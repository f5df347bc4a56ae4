/*
 * options.h - the agent's settings, from THREADLENS_OPTIONS
 * ("key=value:key=value", the sanitizers' convention; `threadlens run -o`
 * appends to it). Parsed once at start-up on the main thread, read-only
 * afterwards. A bad entry is named in one line on stderr and its default kept.
 */
#ifndef TL_OPTIONS_H
#define TL_OPTIONS_H

#include <limits.h>

#include "log.h"

struct tl_suppressions;

#define TL_HALT_EXITCODE 66 /* halt_on_error's status when exitcode is not set (TSan's) */

struct tl_options {
    char db[PATH_MAX];          /* database file; default threadlens-<prog>-<pid>.db */
    double interval;            /* collector tick, seconds (default 1) */
    unsigned stacks;            /* frames kept per stack (default 24) */
    enum tl_log_level log;      /* quiet, error, info, debug (default error) */
    double block_threshold;     /* seconds in one wait before blocked-thread (default 10) */
    int on_deadlock_abort;      /* on_deadlock=abort: abort() once a deadlock is written */
    int stack_signal;           /* signal that asks a blocked thread for its stack; 0 never */
    double trend_window;        /* seconds of history a growth series keeps (default 60) */
    double trend_min_duration;  /* seconds a growth must span to be reported (default 10) */
    double trend_alpha;         /* one-sided Mann-Kendall significance (default 0.01) */
    double trend_min_bytes_per_s; /* slower heap, RSS or site growth is ignored (default 4096) */
    double trend_min_items_per_s; /* slower thread or task growth is ignored (default 0.2) */
    double sample_bytes;        /* mean bytes between sampled allocations; 1 = every one */
    double leak_scan_max;       /* bytes of memory scanned for references at exit */
    double max_threads;         /* limits: a crossing is a limit-exceeded finding; 0 = none */
    double max_tasks;
    double max_heap;            /* bytes of live heap */
    double max_rss;             /* bytes resident */
    int exitcode;               /* replaces the exit status when error findings exist; -1 = no */
    int print_summary;          /* the one stderr line at exit (default 1) */
    int halt_on_error;          /* end the process at the first error finding (status 66) */
    char on_finding[1024];      /* shell command run per new finding, its JSON on stdin */
    char metrics_path[1024];    /* OpenMetrics file rewritten every tick; "" none */
    struct tl_suppressions *suppressions; /* suppressions=FILE, NULL: none */
};

extern struct tl_options tl_options;

/* Parses `spec` (may be NULL) over the defaults. Returns the number of bad entries. */
int tl_options_parse(const char *spec);

#endif
