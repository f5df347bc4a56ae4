/*
 * spin.h - tl_spin, the agent's internal lock. Never an interposed mutex, so
 * taking it cannot recurse into the agent. Used only on slow paths (new
 * facts: a new lock, edge, stack or thread), never on lock/unlock fast paths.
 */
#ifndef TL_SPIN_H
#define TL_SPIN_H

#include <sched.h>
#include <stdatomic.h>

struct tl_spin {
    atomic_int locked; /* 0 free, 1 held */
};

#define TL_SPIN_INIT {0}

static inline void tl_spin_lock(struct tl_spin *s)
{
    for (;;) {
        if (!atomic_exchange_explicit(&s->locked, 1, memory_order_acquire))
            return;
        while (atomic_load_explicit(&s->locked, memory_order_relaxed))
            sched_yield(); /* holders are short; yield rather than burn a core */
    }
}

static inline void tl_spin_unlock(struct tl_spin *s)
{
    atomic_store_explicit(&s->locked, 0, memory_order_release);
}

/* After fork the child has one thread: a spin held by a vanished thread is free. */
static inline void tl_spin_reset(struct tl_spin *s)
{
    atomic_store_explicit(&s->locked, 0, memory_order_relaxed);
}

#endif
