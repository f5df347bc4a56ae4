/* detect_limits.c - configured maximums (see detect_limits.h). */
#include "detect_limits.h"

#include <stdio.h>

#include "finding.h"
#include "options.h"

enum { LIMIT_THREADS, LIMIT_TASKS, LIMIT_HEAP, LIMIT_RSS, LIMIT_COUNT };

static int above[LIMIT_COUNT]; /* collector only: the value is over its limit now */

static void report(const char *what, const char *option, double value, double limit,
                   int bytes)
{
    struct tl_finding *f = tl_finding_new(TL_FINDING_LIMIT, TL_SEVERITY_ERROR, 0, 0);
    if (!f)
        return;
    char summary[256];
    if (bytes)
        snprintf(summary, sizeof summary, "%s %.1f MiB exceeds %s=%.1f MiB", what,
                 value / 1048576.0, option, limit / 1048576.0);
    else
        snprintf(summary, sizeof summary, "%s %.0f exceeds %s=%.0f", what, value, option, limit);
    f->summary = tl_finding_text(summary);
    tl_publish(&f->pub);
}

static void check(int which, const char *what, const char *option, double value, double limit,
                  int bytes)
{
    if (limit <= 0 || value < 0)
        return;
    int over = value > limit;
    if (over && !above[which])
        report(what, option, value, limit, bytes);
    above[which] = over;
}

void tl_limits_tick(const struct tl_sample *s)
{
    check(LIMIT_THREADS, "live threads", "max_threads", s->threads_live, tl_options.max_threads,
          0);
    check(LIMIT_TASKS, "in-flight tasks", "max_tasks", (double)s->tasks_in_flight,
          tl_options.max_tasks, 0);
    check(LIMIT_HEAP, "live heap", "max_heap", (double)s->heap_live_bytes, tl_options.max_heap, 1);
    check(LIMIT_RSS, "resident memory", "max_rss", (double)s->rss_bytes, tl_options.max_rss, 1);
}

void tl_limits_after_fork_child(void)
{
    for (int i = 0; i < LIMIT_COUNT; i++)
        above[i] = 0;
}
