/* procstat.c - /proc/self counters for the sample row (see procstat.h). */
#include "procstat.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

ssize_t tl_procfs_read(const char *path, char *buf, size_t size)
{
    buf[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n >= 0)
        buf[n] = '\0';
    return n;
}

const char *tl_procfs_field(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    return p ? p + strlen(key) : NULL;
}

/* The number after "key:" in /proc/self/status text, or -1. */
static int64_t status_field(const char *text, const char *key)
{
    const char *p = tl_procfs_field(text, key);
    return p ? strtoll(p, NULL, 10) : -1;
}

static int64_t count_fds(void)
{
    DIR *dir = opendir("/proc/self/fd");
    if (!dir)
        return -1;
    int64_t n = 0;
    for (struct dirent *e; (e = readdir(dir));)
        n += e->d_name[0] != '.';
    closedir(dir);
    return n - 1; /* the descriptor opendir itself holds */
}

void tl_procstat_read(struct tl_procstat *out)
{
    char buf[4096];
    *out = (struct tl_procstat){-1, -1, -1, -1, -1};
    long size_pages, rss_pages;
    if (tl_procfs_read("/proc/self/statm", buf, sizeof buf) > 0 &&
        sscanf(buf, "%ld %ld", &size_pages, &rss_pages) == 2)
        out->rss_bytes = (int64_t)rss_pages * sysconf(_SC_PAGESIZE);
    if (tl_procfs_read("/proc/self/status", buf, sizeof buf) > 0) {
        out->threads = status_field(buf, "\nThreads:");
        out->ctx_voluntary = status_field(buf, "\nvoluntary_ctxt_switches:");
        out->ctx_involuntary = status_field(buf, "\nnonvoluntary_ctxt_switches:");
    }
    out->fds = count_fds();
}
