/*
 * json.c - streaming JSON writer: layout (separators, indentation) and string
 * escaping with UTF-8 validation.
 */
#include "json.h"

#include <assert.h>
#include <inttypes.h>

/* Writes a newline and the indentation of nesting level `depth`. */
static void newline(struct tl_json *j, int depth)
{
    fputc('\n', j->out);
    for (int i = 0; i < depth; i++)
        fputs("  ", j->out);
}

/*
 * Writes what goes before a member of the current container: a comma after
 * the previous member, then a newline or a space. After a key, the value
 * follows it directly.
 */
static void separate(struct tl_json *j)
{
    int d = j->depth;

    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (d == 0)
        return;
    if (!j->empty[d])
        fputc(',', j->out);
    if (!j->oneline[d])
        newline(j, d);
    else if (!j->empty[d])
        fputc(' ', j->out);
    j->empty[d] = false;
}

static void begin(struct tl_json *j, char open, bool oneline)
{
    separate(j);
    assert(j->depth < TL_JSON_MAX_DEPTH);
    fputc(open, j->out);
    j->depth++;
    j->oneline[j->depth] = oneline || j->oneline[j->depth - 1];
    j->empty[j->depth] = true;
}

static void end(struct tl_json *j, char close)
{
    assert(j->depth > 0 && !j->after_key);
    if (!j->empty[j->depth] && !j->oneline[j->depth])
        newline(j, j->depth - 1);
    fputc(close, j->out);
    j->depth--;
}

/*
 * Returns the length of the valid UTF-8 sequence starting at s (2 to 4), or 0
 * when s does not start one: overlong forms, surrogates, code points above
 * U+10FFFF and truncated sequences are all invalid (RFC 3629, section 4).
 * Never reads past a NUL, which is not a continuation byte.
 */
static int utf8_len(const unsigned char *s)
{
    unsigned char lo = 0x80, hi = 0xBF;
    int n;

    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        n = 2;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        n = 3;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        n = 4;
    else
        return 0;
    if (s[0] == 0xE0)
        lo = 0xA0;
    else if (s[0] == 0xED)
        hi = 0x9F;
    else if (s[0] == 0xF0)
        lo = 0x90;
    else if (s[0] == 0xF4)
        hi = 0x8F;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (int i = 2; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    }
    return n;
}

/* Writes one ASCII byte, escaped as JSON requires. */
static void put_ascii(FILE *out, unsigned char c)
{
    switch (c) {
    case '"': fputs("\\\"", out); break;
    case '\\': fputs("\\\\", out); break;
    case '\b': fputs("\\b", out); break;
    case '\f': fputs("\\f", out); break;
    case '\n': fputs("\\n", out); break;
    case '\r': fputs("\\r", out); break;
    case '\t': fputs("\\t", out); break;
    default:
        if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
}

static void put_quoted(FILE *out, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;

    fputc('"', out);
    while (*s) {
        int n = *s < 0x80 ? 1 : utf8_len(s);

        if (n == 1)
            put_ascii(out, *s);
        else if (n > 1)
            fwrite(s, 1, (size_t)n, out);
        else
            fputs("\\ufffd", out);
        s += n ? n : 1;
    }
    fputc('"', out);
}

/* Starts writing to out at the top level. Can't fail. */
void tl_json_init(struct tl_json *j, FILE *out)
{
    j->out = out;
    j->depth = 0;
    j->after_key = false;
    j->oneline[0] = false;
    j->empty[0] = true;
}

/* Opens an object; oneline keeps it and its contents on one line. */
void tl_json_begin_object(struct tl_json *j, bool oneline)
{
    begin(j, '{', oneline);
}

void tl_json_end_object(struct tl_json *j)
{
    end(j, '}');
}

/* Opens an array; oneline keeps it and its contents on one line. */
void tl_json_begin_array(struct tl_json *j, bool oneline)
{
    begin(j, '[', oneline);
}

void tl_json_end_array(struct tl_json *j)
{
    end(j, ']');
}

/* Writes an object key; the next call writes its value. */
void tl_json_key(struct tl_json *j, const char *key)
{
    assert(j->depth > 0 && !j->after_key);
    separate(j);
    put_quoted(j->out, key);
    fputs(": ", j->out);
    j->after_key = true;
}

/* Writes s as a JSON string, or null when s is NULL. */
void tl_json_string(struct tl_json *j, const char *s)
{
    separate(j);
    if (s)
        put_quoted(j->out, s);
    else
        fputs("null", j->out);
}

void tl_json_int(struct tl_json *j, int64_t v)
{
    separate(j);
    fprintf(j->out, "%" PRId64, v);
}

void tl_json_bool(struct tl_json *j, bool v)
{
    separate(j);
    fputs(v ? "true" : "false", j->out);
}

/* Writes v as a string "0x..." in lowercase hex (addresses, offsets). */
void tl_json_hex(struct tl_json *j, uint64_t v)
{
    separate(j);
    fprintf(j->out, "\"0x%" PRIx64 "\"", v);
}

/*
 * Writes v / 1000 as a number with three decimals, exactly ("1.234" for 1234,
 * "-0.005" for -5): nanoseconds as microseconds, without rounding.
 */
void tl_json_thousandths(struct tl_json *j, int64_t v)
{
    uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

    separate(j);
    fprintf(j->out, "%s%" PRIu64 ".%03u", v < 0 ? "-" : "", mag / 1000, (unsigned)(mag % 1000));
}

void tl_json_null(struct tl_json *j)
{
    separate(j);
    fputs("null", j->out);
}

/* Ends the document with a newline; every container must be closed. */
void tl_json_finish(struct tl_json *j)
{
    assert(j->depth == 0);
    fputc('\n', j->out);
}
