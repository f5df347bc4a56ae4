/*
 * protobuf.h - a minimal Protocol Buffers encoder, enough for profile.proto
 * (export_pprof.c): varints, int64/uint64/bool fields, strings, nested
 * messages and packed repeated integers. A message is built in a struct tl_pb
 * byte buffer; a nested message is built in its own buffer and appended as a
 * length-delimited field. Fields with the proto3 default (0) are omitted by
 * the scalar writers, as the wire format allows.
 *
 * The buffer grows with xalloc.h (aborts on out-of-memory), is owned by its
 * caller and freed with tl_pb_free(). Not thread-safe.
 */
#ifndef TL_PROTOBUF_H
#define TL_PROTOBUF_H

#include <stddef.h>
#include <stdint.h>

struct tl_pb {
    uint8_t *data; /* encoded bytes; NULL while empty */
    size_t len;    /* bytes in use */
    size_t cap;    /* bytes allocated */
};

void tl_pb_init(struct tl_pb *b);
void tl_pb_free(struct tl_pb *b);
void tl_pb_clear(struct tl_pb *b);
void tl_pb_raw(struct tl_pb *b, const void *data, size_t len);
void tl_pb_varint(struct tl_pb *b, uint64_t v);
void tl_pb_uint(struct tl_pb *b, unsigned field, uint64_t v);
void tl_pb_int(struct tl_pb *b, unsigned field, int64_t v);
void tl_pb_bytes(struct tl_pb *b, unsigned field, const void *data, size_t len);
void tl_pb_string(struct tl_pb *b, unsigned field, const char *s);
void tl_pb_message(struct tl_pb *b, unsigned field, const struct tl_pb *msg);
void tl_pb_packed(struct tl_pb *b, unsigned field, const uint64_t *v, size_t n);

#endif
