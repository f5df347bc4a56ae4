/*
 * spark.c - sparklines (spark.h). The last `width` values are scaled between
 * their minimum and maximum, so a flat series draws as the lowest level and a
 * growing one climbs to the right.
 */
#include "spark.h"

#include <string.h>

static const char *const blocks[] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                     "\u2585", "\u2586", "\u2587", "\u2588"};
static const char ascii[] = "_.-~=+*#";

/*
 * Writes the sparkline of the last `width` values of s into buf (at most
 * len bytes, NUL-terminated; an empty string when s is empty). One display
 * column per value. Can't fail.
 */
void tl_spark(char *buf, size_t len, const struct tl_series *s, size_t width, bool utf8)
{
    size_t first = s->n > width ? s->n - width : 0, pos = 0;
    double lo = 0, hi = 0;

    if (len == 0)
        return;
    buf[0] = '\0';
    for (size_t i = first; i < s->n; i++) {
        if (i == first || s->v[i] < lo)
            lo = s->v[i];
        if (i == first || s->v[i] > hi)
            hi = s->v[i];
    }
    for (size_t i = first; i < s->n; i++) {
        int level = hi > lo ? (int)((s->v[i] - lo) / (hi - lo) * 7.0 + 0.5) : 0;
        const char *c = utf8 ? blocks[level] : (const char[]){ascii[level], '\0'};
        size_t n = strlen(c);

        if (pos + n + 1 > len)
            break;
        memcpy(buf + pos, c, n);
        pos += n;
        buf[pos] = '\0';
    }
}
