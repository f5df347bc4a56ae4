/*
 * xalloc.h - checked allocation for threadlens-top. The viewer is a short-lived
 * command, so running out of memory is not recovered from: these helpers print
 * one line on stderr and abort, and callers never test for NULL. Not for the
 * agent, which must never abort its host. No state.
 */
#ifndef TL_XALLOC_H
#define TL_XALLOC_H

#include <stddef.h>

void *tl_xmalloc(size_t size);
void *tl_xcalloc(size_t count, size_t size);
void *tl_xrealloc(void *ptr, size_t count, size_t size);
char *tl_xstrdup(const char *s);

#endif
