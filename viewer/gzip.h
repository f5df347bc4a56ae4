/*
 * gzip.h - writes data as a gzip member (RFC 1952) whose deflate stream
 * (RFC 1951) is made of stored blocks only: valid gzip that any gunzip or
 * profile reader accepts, without a compression library. The output is a
 * little larger than the input, not smaller. No state; not thread-safe only
 * in that the FILE is the caller's.
 */
#ifndef TL_GZIP_H
#define TL_GZIP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

uint32_t tl_crc32(uint32_t crc, const void *data, size_t len);
int tl_gzip_write(FILE *out, const void *data, size_t len);

#endif
