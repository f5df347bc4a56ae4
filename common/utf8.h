/*
 * utf8.h - UTF-8 validation for text that leaves threadlens in formats that
 * require UTF-8 (OpenMetrics label values, profile.proto strings). Pure
 * functions, no state, no allocation: the agent and the viewer both use it.
 */
#ifndef TL_UTF8_H
#define TL_UTF8_H

#include <stddef.h>

#define TL_UTF8_REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD, for a byte that is not UTF-8 */

int tl_utf8_len(const char *s);
size_t tl_utf8_sanitize(char *dst, size_t len, const char *src);

#endif
