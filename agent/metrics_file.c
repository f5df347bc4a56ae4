/* metrics_file.c - the per-tick OpenMetrics file (see metrics_file.h). */
#include "metrics_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "openmetrics.h"
#include "options.h"

static int failed; /* said once; the program goes on without the file */

static void fill(struct tl_metrics *m, const struct tl_process_info *proc,
                 const struct tl_sample *s, const struct tl_finding *findings)
{
    tl_metrics_init(m);
    m->pid = proc->pid;
    m->exe = proc->exe;
    m->t_ns = s->t_ns;
    m->start_ns = proc->start_ns;
    m->threads_live = s->threads_live;
    m->threads_total = s->threads_total;
    if (s->tasks_total >= 0) {
        m->tasks_in_flight = s->tasks_in_flight;
        m->tasks_queued = s->tasks_queued;
        m->tasks_total = s->tasks_total;
    }
    m->heap_live_bytes = s->heap_live_bytes;
    m->heap_live_count = s->heap_live_count;
    m->heap_alloc_bytes = (int64_t)s->heap_alloc_bytes;
    m->heap_free_bytes = (int64_t)s->heap_free_bytes;
    if (s->rss_bytes >= 0)
        m->rss_bytes = s->rss_bytes;
    if (s->fds >= 0)
        m->fds = s->fds;
    m->locks = s->locks;
    m->lock_edges = s->edges;
    m->acquisitions = (int64_t)s->acquisitions;
    m->contentions = (int64_t)s->contentions;
    if (s->agent_bytes >= 0)
        m->agent_bytes = s->agent_bytes;
    m->collector_ns = s->collector_ns;
    m->findings_suppressed = 0;
    for (const struct tl_finding *f = findings; f; f = f->next_open) {
        int k = tl_metrics_kind_index(tl_finding_kind_name(f->kind));
        int v = tl_metrics_severity_index(tl_severity_name(f->written_severity));
        if (f->suppressed)
            m->findings_suppressed++;
        else if (k >= 0 && v >= 0)
            m->findings[k][v]++;
    }
}

static int write_all(int fd, const char *text, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n <= 0)
            return -1;
        text += n;
        len -= (size_t)n;
    }
    return 0;
}

void tl_metrics_file_write(const struct tl_process_info *proc, const struct tl_sample *s,
                           const struct tl_finding *findings)
{
    if (!tl_options.metrics_path[0] || failed)
        return;
    static char text[16384];
    struct tl_metrics m;
    fill(&m, proc, s, findings);
    int len = tl_openmetrics_format(text, sizeof text, &m, 1);
    char path[4096], tmp[4200];
    tl_expand_pid(tl_options.metrics_path, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = len < 0 ? -1 : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int ok = fd >= 0 && write_all(fd, text, (size_t)len) == 0;
    if (fd >= 0 && close(fd) != 0)
        ok = 0;
    if (ok && rename(tmp, path) == 0)
        return;
    if (fd >= 0)
        unlink(tmp);
    failed = 1;
    tl_log(TL_LOG_ERROR, "cannot write the metrics file %s; no more metrics files", path);
}
