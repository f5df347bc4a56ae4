/*
 * spin.h - tl_spin, the agent's internal lock. Never an interposed mutex, so
 * taking it cannot recurse into the agent. Used only on slow paths (new
 * facts: a new lock, edge, stack or thread), never on lock/unlock fast paths.
 *
 * It spins a little, then sleeps on a futex. Holders are short, but on a
 * machine with more runnable threads than cores a holder is often
 * preempted: waiters that only yielded stayed runnable and took the CPU
 * from it. On memcached's first pass (four workers learning 13,000 edges on
 * two cores) the graph lock was held 15 ms in all and waited for 150 ms.
 */
#ifndef TL_SPIN_H
#define TL_SPIN_H

#include <stdatomic.h>

struct tl_spin {
    atomic_int locked; /* 0 free, 1 held, 2 held and a thread may sleep on it */
};

#define TL_SPIN_INIT {0}

void tl_spin_lock_contended(struct tl_spin *s);
void tl_spin_wake(struct tl_spin *s);

static inline void tl_spin_lock(struct tl_spin *s)
{
    int free = 0;
    if (!atomic_compare_exchange_strong_explicit(&s->locked, &free, 1, memory_order_acquire,
                                                 memory_order_relaxed))
        tl_spin_lock_contended(s);
}

static inline void tl_spin_unlock(struct tl_spin *s)
{
    if (atomic_exchange_explicit(&s->locked, 0, memory_order_release) == 2)
        tl_spin_wake(s);
}

/* After fork the child has one thread: a spin held by a vanished thread is free. */
static inline void tl_spin_reset(struct tl_spin *s)
{
    atomic_store_explicit(&s->locked, 0, memory_order_relaxed);
}

#endif
