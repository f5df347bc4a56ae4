/*
 * gzip.c - a gzip member with stored deflate blocks. Layout: the 10-byte
 * header (magic 1f 8b, method 8 = deflate, no flags, no mtime, OS 3 = Unix),
 * then blocks of at most 65535 bytes, each a header byte (BFINAL in bit 0,
 * BTYPE 00 = stored; the rest of the byte pads to the byte boundary that
 * stored blocks start at), LEN and its one's complement NLEN, little-endian,
 * and the bytes; then CRC-32 and ISIZE (length mod 2^32), little-endian.
 */
#include "gzip.h"

#include <errno.h>

#define STORED_MAX 65535u

/*
 * Updates a CRC-32 (the IEEE polynomial, reflected, as gzip and zlib use) with
 * data. Start with crc 0. Bitwise, without a table: profiles are small.
 */
uint32_t tl_crc32(uint32_t crc, const void *data, size_t len)
{
    const unsigned char *p = data;

    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/*
 * Writes data to out as one gzip member. Returns 0, or -EIO when a write
 * failed (the error also stays in ferror(out)).
 */
int tl_gzip_write(FILE *out, const void *data, size_t len)
{
    static const unsigned char header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    const unsigned char *p = data;
    unsigned char trailer[8];
    size_t done = 0;

    fwrite(header, 1, sizeof(header), out);
    do {
        size_t n = len - done > STORED_MAX ? STORED_MAX : len - done;
        unsigned char block[5] = {done + n == len ? 1 : 0, (unsigned char)n,
                                  (unsigned char)(n >> 8), (unsigned char)~n,
                                  (unsigned char)(~n >> 8)};

        fwrite(block, 1, sizeof(block), out);
        if (n)
            fwrite(p + done, 1, n, out);
        done += n;
    } while (done < len);
    put_le32(trailer, tl_crc32(0, data, len));
    put_le32(trailer + 4, (uint32_t)len);
    fwrite(trailer, 1, sizeof(trailer), out);
    return ferror(out) ? -EIO : 0;
}
