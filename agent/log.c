/* log.c - one-line stderr messages for the agent (see log.h). */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static enum tl_log_level log_level = TL_LOG_ERROR; /* set once at init, read by all */

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
    ssize_t unused = write(STDERR_FILENO, buf, (size_t)n);
    (void)unused;
    errno = saved;
}
