/*
 * stack_cache.h - a thread's last unwinds, one per call site, each reused
 * while its frames are still on the stack. A new lock-order edge needs the
 * frames with their stack pointers, which only libgcc's unwinder gives (about
 * 1,700 instructions a frame, stack.c); a program that hashes its items over
 * thousands of locks (memcached) learns thousands of edges from a handful of
 * call sites, one unwind each. When the innermost frame is where it was the
 * last time at that call site, every outer frame is checked instead of
 * unwound: its return address must still be in the slot its call pushed it
 * to, one load a frame.
 *
 * What the check cannot see: a frame whose size varies between calls at the
 * same return address (alloca, a variable-length array) can put the same
 * innermost frame on a different chain of callers, and the old chain's
 * return addresses may still lie in the unused stack where it was. The
 * stack then shown is the one this thread had at the same call site and
 * depth before, not the current one.
 */
#ifndef TL_STACK_CACHE_H
#define TL_STACK_CACHE_H

#include "stack.h"

/* Unwinds kept, one per call site (the return address of `from`) at most. */
#define TL_STACK_CACHE_SITES 4

struct tl_stack_cache_site {
    int n;                        /* frames kept; 0 = none */
    struct tl_frame frames[TL_STACK_MAX];
};

struct tl_stack_cache {
    unsigned reused;              /* unwinds answered from kept frames */
    unsigned next_victim;         /* the site a new call site replaces next, modulo */
    struct tl_stack_cache_site site[TL_STACK_CACHE_SITES];
};

/* A cache for the calling thread, from the arena; NULL when it is exhausted. */
struct tl_stack_cache *tl_stack_cache_new(void);
/* Empties `c` for another thread (a reused thread record). */
void tl_stack_cache_reset(struct tl_stack_cache *c);
/*
 * tl_stack_unwind() from the frame `from` outwards: `from` is a return
 * address and the CFA of the call that pushed it (TL_CALLER() in an
 * interposer). Returns the frames, `from` first, or a plain unwind when
 * `from` is not on it. `c` may be NULL.
 */
int tl_stack_cache_unwind(struct tl_stack_cache *c, struct tl_caller from, struct tl_frame *out,
                          int max);

#endif
