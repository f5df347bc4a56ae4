/* stack_cache.c - a thread's last unwinds, reused while still on the stack (stack_cache.h). */
#include "stack_cache.h"

#include <pthread.h>
#include <string.h>

#include "arena.h"

struct tl_stack_cache *tl_stack_cache_new(void)
{
    return tl_arena_alloc(sizeof(struct tl_stack_cache));
}

void tl_stack_cache_reset(struct tl_stack_cache *c)
{
    memset(c, 0, sizeof *c);
}

extern void *__libc_stack_end; /* ld.so's: the initial thread's stack at _start */

#define STACK_MAX (256u << 20) /* no thread stack whose unwinds are reused is larger */

/*
 * The top of the stack `cfa` is on, when it is the calling thread's own:
 * the check reads between `cfa` and the outermost kept frame, which is
 * mapped when both are on that stack. glibc puts a thread's descriptor
 * (pthread_self()) at the top of its stack block, its own or one the
 * program gave; the initial thread's stack ends at __libc_stack_end. A
 * thread on a coroutine's stack, or on a signal stack, is seldom within
 * STACK_MAX below either, and then nothing is reused. Asking glibc instead
 * (pthread_getattr_np) would allocate, inside a lock interposer, through a
 * malloc that may take the program's mutexes.
 */
static uintptr_t own_stack_top(uintptr_t cfa)
{
    uintptr_t self = (uintptr_t)pthread_self(), initial = (uintptr_t)__libc_stack_end;
    if (cfa < self && self - cfa < STACK_MAX)
        return self;
    if (cfa < initial && initial - cfa < STACK_MAX)
        return initial;
    return 0;
}

/*
 * Whether the kept frames are still the ones above `from`: each frame's sp
 * is its callee's CFA, and on x86-64 a call pushes its return address just
 * below that, so the slot at sp - 8 holds the frame's pc for as long as the
 * frame is there.
 */
static int still_on_stack(const struct tl_stack_cache_site *s, struct tl_caller from)
{
#if defined(__x86_64__)
    uintptr_t top = 0;
    if (s->n == 0 || s->frames[0].pc != from.pc || s->frames[0].sp != from.cfa ||
        !(top = own_stack_top(from.cfa)))
        return 0;
    for (int i = 1; i < s->n; i++) {
        uintptr_t sp = s->frames[i].sp;
        if (sp <= s->frames[i - 1].sp || sp > top) /* not outwards on this stack */
            return 0;
        if (*(const volatile uintptr_t *)(sp - sizeof(uintptr_t)) != s->frames[i].pc)
            return 0;
    }
    return 1;
#else
    (void)s;
    (void)from;
    return 0;
#endif
}

/* The site kept for `pc`, else the next one in turn to replace. */
static struct tl_stack_cache_site *site_of(struct tl_stack_cache *c, uintptr_t pc)
{
    for (int i = 0; i < TL_STACK_CACHE_SITES; i++)
        if (c->site[i].n > 0 && c->site[i].frames[0].pc == pc)
            return &c->site[i];
    return &c->site[c->next_victim++ % TL_STACK_CACHE_SITES];
}

int tl_stack_cache_unwind(struct tl_stack_cache *c, struct tl_caller from, struct tl_frame *out,
                          int max)
{
    struct tl_stack_cache_site *s = c ? site_of(c, from.pc) : NULL;
    if (s && s->n <= max && still_on_stack(s, from)) {
        memcpy(out, s->frames, (size_t)s->n * sizeof *out);
        c->reused++;
        return s->n;
    }
    int n = tl_stack_unwind(out, max);
    int k = 0;
    while (k < n && (out[k].pc != from.pc || out[k].sp != from.cfa))
        k++;
    if (s)
        s->n = 0;
    if (k == n)
        return n;
    n -= k;
    memmove(out, out + k, (size_t)n * sizeof *out);
    if (s) {
        memcpy(s->frames, out, (size_t)n * sizeof *out);
        s->n = n;
    }
    return n;
}
