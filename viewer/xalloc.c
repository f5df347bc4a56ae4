/*
 * xalloc.c - checked allocators: allocate or abort with a message.
 */
#include "xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t size)
{
    fprintf(stderr, "threadlens-top: out of memory (%zu bytes)\n", size);
    abort();
}

/* Returns at least `size` bytes (one byte when size is 0). Can't fail. */
void *tl_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);

    if (!p)
        out_of_memory(size);
    return p;
}

/* Returns count * size zeroed bytes. Can't fail; overflow aborts too. */
void *tl_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);

    if (!p)
        out_of_memory(count * size);
    return p;
}

/* Resizes ptr to count * size bytes. Can't fail; overflow aborts too. */
void *tl_xrealloc(void *ptr, size_t count, size_t size)
{
    size_t bytes;
    void *p;

    if (size && count > SIZE_MAX / size)
        out_of_memory(SIZE_MAX);
    bytes = count * size;
    p = realloc(ptr, bytes ? bytes : 1);
    if (!p)
        out_of_memory(bytes);
    return p;
}

/* Returns a copy of s that the caller frees, or NULL when s is NULL. */
char *tl_xstrdup(const char *s)
{
    size_t n;
    char *p;

    if (!s)
        return NULL;
    n = strlen(s) + 1;
    p = tl_xmalloc(n);
    memcpy(p, s, n);
    return p;
}
