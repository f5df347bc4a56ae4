/*
 * utf8.c - RFC 3629 validation: a lead byte C2..F4 and the continuation bytes
 * its value allows (no overlong forms, no surrogates, nothing above
 * U+10FFFF).
 */
#include "utf8.h"

#include <string.h>

/*
 * Returns the length (1 to 4) of the valid UTF-8 sequence at s, or 0 when s
 * starts none (an invalid or truncated sequence) or is at its NUL. Never
 * reads past a NUL, which is not a continuation byte.
 */
int tl_utf8_len(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned char lo = 0x80, hi = 0xBF;
    int n;

    if (s[0] == 0)
        return 0;
    if (s[0] < 0x80)
        return 1;
    if (s[0] < 0xC2 || s[0] > 0xF4)
        return 0;
    n = s[0] < 0xE0 ? 2 : s[0] < 0xF0 ? 3 : 4;
    if (s[0] == 0xE0)
        lo = 0xA0; /* overlong below U+0800 */
    else if (s[0] == 0xED)
        hi = 0x9F; /* surrogates */
    else if (s[0] == 0xF0)
        lo = 0x90; /* overlong below U+10000 */
    else if (s[0] == 0xF4)
        hi = 0x8F; /* above U+10FFFF */
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (int i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

/*
 * Copies src into dst (len bytes, len > 0), NUL-terminated, with every byte
 * that does not belong to a valid sequence replaced by U+FFFD; stops at a
 * whole sequence when dst is full. Returns the length written. Can't fail.
 */
size_t tl_utf8_sanitize(char *dst, size_t len, const char *src)
{
    size_t pos = 0;

    while (*src) {
        int n = tl_utf8_len(src);
        const char *piece = n ? src : TL_UTF8_REPLACEMENT;
        size_t k = n ? (size_t)n : sizeof(TL_UTF8_REPLACEMENT) - 1;

        if (pos + k >= len)
            break;
        memcpy(dst + pos, piece, k);
        pos += k;
        src += n ? n : 1;
    }
    dst[pos] = '\0';
    return pos;
}
