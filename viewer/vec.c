/*
 * vec.c - growable array: amortised doubling, zeroed slots.
 */
#include "vec.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Makes v an empty vector of elements of `size` bytes. Can't fail. */
void tl_vec_init(struct tl_vec *v, size_t size)
{
    v->data = NULL;
    v->len = 0;
    v->cap = 0;
    v->size = size;
}

/*
 * Appends one zeroed element and returns it. The pointer is valid until the
 * next push. Can't fail (aborts on out-of-memory).
 */
void *tl_vec_push(struct tl_vec *v)
{
    char *slot;

    if (v->len == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 8;
        v->data = tl_xrealloc(v->data, v->cap, v->size);
    }
    slot = (char *)v->data + v->len * v->size;
    memset(slot, 0, v->size);
    v->len++;
    return slot;
}

/* Returns element i, which must exist. */
void *tl_vec_at(const struct tl_vec *v, size_t i)
{
    assert(i < v->len);
    return (char *)v->data + i * v->size;
}

/* Frees the element storage and leaves v empty and reusable. */
void tl_vec_free(struct tl_vec *v)
{
    free(v->data);
    tl_vec_init(v, v->size);
}
