/*
 * json.h - streaming JSON writer. The caller emits keys and values in document
 * order; the writer adds commas, newlines, two-space indentation and string
 * escaping. A container opened with `oneline` (and everything inside it) is
 * printed on a single line, so small records stay readable.
 *
 * Strings are written as UTF-8: valid sequences pass through, quotes,
 * backslashes and control characters are escaped, and bytes that are not valid
 * UTF-8 become U+FFFD, so the output always parses even when a thread name was
 * truncated in the middle of a character.
 *
 * The struct is owned by its caller and allocates nothing. Nesting deeper than
 * TL_JSON_MAX_DEPTH is a bug (assert). Write errors are left in the FILE for
 * the caller to check with ferror(). Not thread-safe.
 */
#ifndef TL_JSON_H
#define TL_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define TL_JSON_MAX_DEPTH 16

struct tl_json {
    FILE *out;                          /* destination stream */
    int depth;                          /* open containers */
    bool after_key;                     /* a key was written, its value is next */
    bool oneline[TL_JSON_MAX_DEPTH + 1]; /* container prints on one line */
    bool empty[TL_JSON_MAX_DEPTH + 1];   /* container has no member yet */
};

void tl_json_init(struct tl_json *j, FILE *out);
void tl_json_begin_object(struct tl_json *j, bool oneline);
void tl_json_end_object(struct tl_json *j);
void tl_json_begin_array(struct tl_json *j, bool oneline);
void tl_json_end_array(struct tl_json *j);
void tl_json_key(struct tl_json *j, const char *key);
void tl_json_string(struct tl_json *j, const char *s);
void tl_json_int(struct tl_json *j, int64_t v);
void tl_json_hex(struct tl_json *j, uint64_t v);
void tl_json_thousandths(struct tl_json *j, int64_t v);
void tl_json_null(struct tl_json *j);
void tl_json_bool(struct tl_json *j, bool v);
void tl_json_finish(struct tl_json *j);

#endif
