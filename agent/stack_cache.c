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

/*
 * The calling thread's stack, asked once: the check reads the stack between
 * `from` and the outermost kept frame, which is mapped only if both are on
 * the thread's own stack (not a coroutine's, not a signal stack).
 */
static int know_stack(struct tl_stack_cache *c)
{
    if (c->stack_hi == 0) {
        c->stack_lo = c->stack_hi = 1;
        pthread_attr_t attr;
        if (pthread_getattr_np(pthread_self(), &attr) == 0) {
            void *addr;
            size_t size;
            if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
                c->stack_lo = (uintptr_t)addr;
                c->stack_hi = (uintptr_t)addr + size;
            }
            pthread_attr_destroy(&attr);
        }
    }
    return c->stack_hi > 1;
}

/*
 * Whether the kept frames are still the ones above `from`: each frame's sp
 * is its callee's CFA, and on x86-64 a call pushes its return address just
 * below that, so the slot at sp - 8 holds the frame's pc for as long as the
 * frame is there.
 */
static int still_on_stack(struct tl_stack_cache *c, const struct tl_stack_cache_site *s,
                          struct tl_caller from)
{
#if defined(__x86_64__)
    if (s->n == 0 || s->frames[0].pc != from.pc || s->frames[0].sp != from.cfa ||
        !know_stack(c) || from.cfa < c->stack_lo || from.cfa >= c->stack_hi)
        return 0;
    for (int i = 1; i < s->n; i++) {
        uintptr_t sp = s->frames[i].sp;
        if (sp <= s->frames[i - 1].sp || sp > c->stack_hi) /* not outwards on this stack */
            return 0;
        if (*(const volatile uintptr_t *)(sp - sizeof(uintptr_t)) != s->frames[i].pc)
            return 0;
    }
    return 1;
#else
    (void)c;
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
    if (s && s->n <= max && still_on_stack(c, s, from)) {
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
