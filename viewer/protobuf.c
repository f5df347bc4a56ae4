/*
 * protobuf.c - Protocol Buffers wire format, encoding only: a key is
 * (field << 3 | wire type); varints are 7 bits per byte, low group first,
 * high bit set on every byte but the last; an int64 is its two's complement
 * as a uint64 (ten bytes when negative); length-delimited fields are a
 * varint length then the bytes.
 */
#include "protobuf.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

void tl_pb_init(struct tl_pb *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

/* Frees the bytes. Can't fail. */
void tl_pb_free(struct tl_pb *b)
{
    free(b->data);
    tl_pb_init(b);
}

/* Empties the buffer but keeps its allocation for the next message. */
void tl_pb_clear(struct tl_pb *b)
{
    b->len = 0;
}

static void append(struct tl_pb *b, const void *data, size_t len)
{
    if (len == 0)
        return;
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 64;

        while (cap < b->len + len)
            cap *= 2;
        b->data = tl_xrealloc(b->data, cap, 1);
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

/* Appends bytes that are already encoded (whole fields). */
void tl_pb_raw(struct tl_pb *b, const void *data, size_t len)
{
    append(b, data, len);
}

void tl_pb_varint(struct tl_pb *b, uint64_t v)
{
    uint8_t bytes[10];
    size_t n = 0;

    while (v >= 0x80) {
        bytes[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    bytes[n++] = (uint8_t)v;
    append(b, bytes, n);
}

static void key(struct tl_pb *b, unsigned field, unsigned wire)
{
    tl_pb_varint(b, (uint64_t)field << 3 | wire);
}

/* A uint64 (or bool) field; 0 is the default and is not written. */
void tl_pb_uint(struct tl_pb *b, unsigned field, uint64_t v)
{
    if (v == 0)
        return;
    key(b, field, WIRE_VARINT);
    tl_pb_varint(b, v);
}

/* An int64 field; 0 is not written. */
void tl_pb_int(struct tl_pb *b, unsigned field, int64_t v)
{
    tl_pb_uint(b, field, (uint64_t)v);
}

/* A length-delimited field; always written, even when empty. */
void tl_pb_bytes(struct tl_pb *b, unsigned field, const void *data, size_t len)
{
    key(b, field, WIRE_LEN);
    tl_pb_varint(b, len);
    append(b, data, len);
}

/* A string field; always written, so "" can be a repeated element. */
void tl_pb_string(struct tl_pb *b, unsigned field, const char *s)
{
    tl_pb_bytes(b, field, s, strlen(s));
}

/* An embedded message built in msg. */
void tl_pb_message(struct tl_pb *b, unsigned field, const struct tl_pb *msg)
{
    tl_pb_bytes(b, field, msg->data, msg->len);
}

/* A packed repeated varint field; nothing when n is 0. */
void tl_pb_packed(struct tl_pb *b, unsigned field, const uint64_t *v, size_t n)
{
    struct tl_pb body;

    if (n == 0)
        return;
    tl_pb_init(&body);
    for (size_t i = 0; i < n; i++)
        tl_pb_varint(&body, v[i]);
    tl_pb_message(b, field, &body);
    tl_pb_free(&body);
}
