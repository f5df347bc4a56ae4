/* publish.c - MPSC change queue to the collector (see publish.h). */
#include "publish.h"

#include <stddef.h>

static struct tl_pub *_Atomic queue_head; /* producers CAS-push, the collector swaps */
static atomic_uint pushes;                /* records ever queued (wraps) */

void tl_publish(struct tl_pub *p)
{
    if (atomic_exchange_explicit(&p->queued, 1, memory_order_acq_rel))
        return;
    struct tl_pub *head = atomic_load_explicit(&queue_head, memory_order_relaxed);
    do {
        p->next = head;
    } while (!atomic_compare_exchange_weak_explicit(&queue_head, &head, p, memory_order_release,
                                                    memory_order_relaxed));
    atomic_fetch_add_explicit(&pushes, 1, memory_order_relaxed);
}

unsigned tl_publish_pushes(void)
{
    return atomic_load_explicit(&pushes, memory_order_relaxed);
}

struct tl_pub *tl_publish_take_all(void)
{
    struct tl_pub *p = atomic_exchange_explicit(&queue_head, NULL, memory_order_acquire);
    struct tl_pub *reversed = NULL;
    while (p) {
        struct tl_pub *next = p->next;
        p->next = reversed;
        reversed = p;
        p = next;
    }
    return reversed;
}

void tl_publish_done(struct tl_pub *p)
{
    atomic_store_explicit(&p->queued, 0, memory_order_seq_cst);
}

void tl_publish_reset(void)
{
    atomic_store_explicit(&queue_head, NULL, memory_order_relaxed);
}
