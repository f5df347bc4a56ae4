/* log.c - one-line stderr messages for the agent (see log.h). */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static enum tl_log_level log_level = TL_LOG_ERROR; /* set once at init, read by all */
static int log_fd = STDERR_FILENO;                 /* set once at init */

void tl_expand_pid(const char *path, char *out, size_t size)
{
    size_t n = 0;
    for (const char *p = path; *p && n + 24 < size; p++) {
        if (p[0] == '%' && p[1] == 'p') {
            n += (size_t)snprintf(out + n, size - n, "%d", (int)getpid());
            p++;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
}

int tl_log_set_path(const char *path)
{
    char expanded[4096];
    tl_expand_pid(path, expanded, sizeof expanded);
    int fd = open(expanded, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    if (log_fd != STDERR_FILENO)
        close(log_fd);
    log_fd = fd;
    return 0;
}

void tl_log_set_level(enum tl_log_level level)
{
    log_level = level;
}

/* Prints "threadlens: <message>\n" when `level` is enabled. Preserves errno. Can't fail. */
void tl_log(enum tl_log_level level, const char *fmt, ...)
{
    if (level > log_level && level != TL_LOG_ERROR)
        return;
    if (log_level == TL_LOG_QUIET)
        return;
    int saved = errno;
    char buf[512];
    int n = snprintf(buf, sizeof buf, "threadlens: ");
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof buf - 2)
        n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    ssize_t unused = write(log_fd, buf, (size_t)n);
    (void)unused;
    errno = saved;
}
