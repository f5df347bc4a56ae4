/* options.c - THREADLENS_OPTIONS parsing (see options.h). */
#include "options.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "suppress.h"

struct tl_options tl_options;

static void set_defaults(void)
{
    tl_options.db[0] = '\0';
    tl_options.interval = 1.0;
    tl_options.stacks = 24;
    tl_options.log = TL_LOG_ERROR;
    tl_options.block_threshold = 10.0;
    tl_options.on_deadlock_abort = 0;
    tl_options.stack_signal = SIGRTMAX - 4; /* glibc keeps the lowest real-time ones */
    tl_options.trend_window = 60.0;
    tl_options.trend_min_duration = 10.0;
    tl_options.trend_alpha = 0.01;
    tl_options.trend_min_bytes_per_s = 4096.0;
    tl_options.trend_min_items_per_s = 0.2;
    tl_options.sample_bytes = 512 * 1024;
    tl_options.leak_scan_max = 1024.0 * 1024 * 1024;
    tl_options.max_threads = tl_options.max_tasks = 0;
    tl_options.max_heap = tl_options.max_rss = 0;
    tl_options.exitcode = -1;
    tl_options.print_summary = 1;
    tl_options.halt_on_error = 0;
    tl_options.on_finding[0] = '\0';
    tl_options.metrics_path[0] = '\0';
    tl_supp_free(tl_options.suppressions);
    tl_options.suppressions = NULL;
}

/* A count or a size: digits with an optional k, m or g (powers of 1024). */
static int parse_size(const char *v, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || !(d >= 0 && d <= 1e18))
        return -1;
    switch (*end) {
    case 'k': case 'K': d *= 1024; end++; break;
    case 'm': case 'M': d *= 1024 * 1024; end++; break;
    case 'g': case 'G': d *= 1024.0 * 1024 * 1024; end++; break;
    default: break;
    }
    if (*end)
        return -1;
    *out = d;
    return 0;
}

/* The limit options: name and field. */
static double *limit_field(const char *key)
{
    if (strcmp(key, "max_threads") == 0)
        return &tl_options.max_threads;
    if (strcmp(key, "max_tasks") == 0)
        return &tl_options.max_tasks;
    if (strcmp(key, "max_heap") == 0)
        return &tl_options.max_heap;
    if (strcmp(key, "max_rss") == 0)
        return &tl_options.max_rss;
    return NULL;
}

static int parse_double(const char *v, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || !(d >= lo && d <= hi)) /* NaN fails both */
        return -1;
    *out = d;
    return 0;
}

static int parse_log(const char *v, enum tl_log_level *out)
{
    static const char *const names[] = {"quiet", "error", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcmp(v, names[i]) == 0) {
            *out = (enum tl_log_level)i;
            return 0;
        }
    return -1;
}

/* help=1: every option, its default and what it does, one line each on stderr. */
static void print_help(void)
{
    static const char *const lines[] = {
        "db=FILE               database file (default threadlens-PROG-PID.db)",
        "interval=1            collector tick, seconds",
        "stacks=24             frames kept per stack",
        "log=error             agent messages: quiet, error, info, debug",
        "log_path=             write agent messages to this file (%p: the pid)",
        "block_threshold=10    seconds in one wait before a blocked-thread finding",
        "on_deadlock=report    report, or abort once the deadlock is written",
        "stack_signal=SIGRTMAX-4  signal asking a blocked thread for its stack; 0 never",
        "sample_bytes=524288   mean bytes between sampled allocations; 1 samples all",
        "leak_scan_max=1g      bytes read at exit looking for references to leaks",
        "trend_window=60       seconds of history per growth series",
        "trend_min_duration=10 seconds a growth must span",
        "trend_alpha=0.01      Mann-Kendall significance",
        "trend_min_bytes_per_s=4096  slower memory growth is not reported",
        "trend_min_items_per_s=0.2   slower thread or task growth is not reported",
        "max_threads=0, max_tasks=0, max_heap=0, max_rss=0  limits (0 none; k/m/g)",
        "exitcode=             exit status when error findings exist",
        "print_summary=1       the line printed at exit",
        "halt_on_error=0       1: end the process at the first error finding "
        "(status: exitcode, else 66)",
        "on_finding=CMD        run /bin/sh -c CMD per new finding, its JSON on stdin",
        "suppressions=FILE     kind:pattern lines; matching findings are marked suppressed",
        "metrics_path=FILE     OpenMetrics text rewritten every tick (%p: the pid)",
        "help=1                this list",
    };
    tl_log(TL_LOG_ERROR, "options (THREADLENS_OPTIONS, separated by ':', ',' or spaces):");
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        tl_log(TL_LOG_ERROR, "  %s", lines[i]);
}

/* Applies one key=value. Returns 0, or -1 after saying what was wrong. */
static int apply(const char *key, const char *value)
{
    double d;
    if (strcmp(key, "db") == 0) {
        if (!*value || strlen(value) >= sizeof tl_options.db)
            goto bad;
        strcpy(tl_options.db, value);
    } else if (strcmp(key, "interval") == 0) {
        if (parse_double(value, 0.01, 3600, &d) < 0)
            goto bad;
        tl_options.interval = d;
    } else if (strcmp(key, "stacks") == 0) {
        if (parse_double(value, 1, 64, &d) < 0 || d != (unsigned)d)
            goto bad;
        tl_options.stacks = (unsigned)d;
    } else if (strcmp(key, "block_threshold") == 0) {
        if (parse_double(value, 0.01, 1e6, &d) < 0)
            goto bad;
        tl_options.block_threshold = d;
    } else if (strcmp(key, "on_deadlock") == 0) {
        if (strcmp(value, "report") != 0 && strcmp(value, "abort") != 0)
            goto bad;
        tl_options.on_deadlock_abort = strcmp(value, "abort") == 0;
    } else if (strcmp(key, "sample_bytes") == 0) {
        if (parse_double(value, 1, 1e12, &d) < 0)
            goto bad;
        tl_options.sample_bytes = d;
    } else if (strcmp(key, "leak_scan_max") == 0) {
        if (parse_double(value, 0, 1e15, &d) < 0)
            goto bad;
        tl_options.leak_scan_max = d;
    } else if (limit_field(key)) {
        if (parse_size(value, &d) < 0)
            goto bad;
        *limit_field(key) = d;
    } else if (strcmp(key, "exitcode") == 0) {
        if (parse_double(value, 0, 255, &d) < 0 || d != (int)d)
            goto bad;
        tl_options.exitcode = (int)d;
    } else if (strcmp(key, "suppressions") == 0) {
        char why[160];
        struct tl_suppressions *s = tl_supp_load(value, why, sizeof why);
        if (!s) {
            tl_log(TL_LOG_ERROR, "suppressions file %.200s not used: %s", value, why);
            return -1;
        }
        tl_supp_free(tl_options.suppressions);
        tl_options.suppressions = s;
    } else if (strcmp(key, "log_path") == 0) {
        if (!*value || tl_log_set_path(value) < 0)
            goto bad;
    } else if (strcmp(key, "halt_on_error") == 0) {
        if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0)
            goto bad;
        tl_options.halt_on_error = value[0] == '1';
    } else if (strcmp(key, "metrics_path") == 0) {
        if (!*value || strlen(value) >= sizeof tl_options.metrics_path)
            goto bad;
        strcpy(tl_options.metrics_path, value);
    } else if (strcmp(key, "on_finding") == 0) {
        if (strlen(value) >= sizeof tl_options.on_finding)
            goto bad;
        strcpy(tl_options.on_finding, value);
    } else if (strcmp(key, "print_summary") == 0) {
        if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0)
            goto bad;
        tl_options.print_summary = value[0] == '1';
    } else if (strcmp(key, "stack_signal") == 0) {
        /* A real-time signal or 0: taking over SIGINT or SIGSEGV would harm the host. */
        if (parse_double(value, 0, SIGRTMAX, &d) < 0 || d != (int)d || (d != 0 && d < SIGRTMIN))
            goto bad;
        tl_options.stack_signal = (int)d;
    } else if (strcmp(key, "trend_window") == 0) {
        if (parse_double(value, 1, 1e6, &d) < 0)
            goto bad;
        tl_options.trend_window = d;
    } else if (strcmp(key, "trend_min_duration") == 0) {
        if (parse_double(value, 0.01, 1e6, &d) < 0)
            goto bad;
        tl_options.trend_min_duration = d;
    } else if (strcmp(key, "trend_alpha") == 0) {
        if (parse_double(value, 1e-12, 0.5, &d) < 0)
            goto bad;
        tl_options.trend_alpha = d;
    } else if (strcmp(key, "trend_min_bytes_per_s") == 0) {
        if (parse_double(value, 0, 1e15, &d) < 0)
            goto bad;
        tl_options.trend_min_bytes_per_s = d;
    } else if (strcmp(key, "trend_min_items_per_s") == 0) {
        if (parse_double(value, 0, 1e9, &d) < 0)
            goto bad;
        tl_options.trend_min_items_per_s = d;
    } else if (strcmp(key, "log") == 0) {
        if (parse_log(value, &tl_options.log) < 0)
            goto bad;
    } else {
        tl_log(TL_LOG_ERROR, "unknown option '%.64s' ignored", key);
        return -1;
    }
    return 0;
bad:
    tl_log(TL_LOG_ERROR, "bad value '%.64s' for option '%s'; using the default", value, key);
    return -1;
}

static int is_separator(char c)
{
    return c == ':' || c == ',' || c == ' ' || c == '\t' || c == '\n';
}

/*
 * Copies the next entry of `p` into `entry` (a value in "..." or '...' may
 * hold separators; the quotes are dropped). Returns the position after it,
 * sets *too_long when it did not fit and *unterminated when a quote was
 * still open at the end of the string.
 */
static const char *next_entry(const char *p, char *entry, size_t size, int *too_long,
                              int *unterminated)
{
    size_t n = 0;
    char quote = 0;
    *too_long = 0;
    for (; *p && (quote || !is_separator(*p)); p++) {
        if (!quote && (*p == '"' || *p == '\'') && n > 0 && entry[n - 1] == '=') {
            quote = *p;
            continue;
        }
        if (quote && *p == quote) {
            quote = 0;
            continue;
        }
        if (n + 1 < size)
            entry[n++] = *p;
        else
            *too_long = 1;
    }
    entry[n] = '\0';
    *unterminated = quote != 0;
    return p;
}

/*
 * Parses THREADLENS_OPTIONS: key=value entries separated by ':', ',' or
 * white space, as the sanitizers' flags are. Returns the number of bad ones.
 */
int tl_options_parse(const char *spec)
{
    set_defaults();
    if (!spec)
        return 0;
    int bad = 0, help = 0;
    for (const char *p = spec; *p;) {
        if (is_separator(*p)) {
            p++;
            continue;
        }
        char entry[PATH_MAX + 64];
        int too_long, unterminated;
        const char *start = p;
        p = next_entry(p, entry, sizeof entry, &too_long, &unterminated);
        char *eq = strchr(entry, '=');
        if (too_long) {
            tl_log(TL_LOG_ERROR, "option too long ignored: '%.40s...'", start);
            bad++;
        } else if (unterminated) {
            tl_log(TL_LOG_ERROR, "option '%.*s' has an unterminated quote; ignored",
                   eq ? (int)(eq - entry) : 64, entry);
            bad++;
        } else if (!eq || eq == entry) {
            tl_log(TL_LOG_ERROR, "option '%.64s' is not key=value; ignored", entry);
            bad++;
        } else if (strncmp(entry, "help=", 5) == 0) {
            help = strcmp(eq + 1, "0") != 0;
        } else {
            *eq = '\0';
            bad += apply(entry, eq + 1) < 0;
        }
    }
    if (help)
        print_help();
    return bad;
}
