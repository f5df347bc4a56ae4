/*
 * vec.h - growable array of fixed-size elements, the viewer's only container.
 * The vector owns its element storage, not what elements point to: whoever
 * fills a vector frees the elements' own allocations before tl_vec_free().
 * Growth aborts on out-of-memory (xalloc.h). Not thread-safe; the viewer is
 * single-threaded.
 */
#ifndef TL_VEC_H
#define TL_VEC_H

#include <stddef.h>

struct tl_vec {
    void *data;  /* elements; NULL while nothing was pushed */
    size_t len;  /* elements in use */
    size_t cap;  /* elements allocated */
    size_t size; /* bytes per element */
};

void tl_vec_init(struct tl_vec *v, size_t size);
void *tl_vec_push(struct tl_vec *v);
void *tl_vec_at(const struct tl_vec *v, size_t i);
void tl_vec_free(struct tl_vec *v);

#endif
