/* waitgraph.c - the wait-for graph of blocked threads (see waitgraph.h). */
#include "waitgraph.h"

#include <pthread.h>
#include <stdlib.h>

#include "errors.h"

#define RWLOCK_READER_SHIFT 3 /* PTHREAD_RWLOCK_READER_SHIFT in glibc */
#define TID_MASK 0x3fffffff   /* a robust or PI mutex's owner word carries flag bits above */

static int grow(void **array, int *cap, int need, size_t size)
{
    if (need <= *cap)
        return 0;
    int cap2 = *cap ? *cap * 2 : 64;
    while (cap2 < need)
        cap2 *= 2;
    void *p = realloc(*array, (size_t)cap2 * size);
    if (!p)
        return TL_ENOMEM;
    *array = p;
    *cap = cap2;
    return 0;
}

static int by_tid(const void *a, const void *b)
{
    pid_t x = (*(struct tl_thread *const *)a)->tid, y = (*(struct tl_thread *const *)b)->tid;
    return x < y ? -1 : x > y;
}

static struct tl_thread *thread_of_tid(const struct tl_waitgraph *g, pid_t tid)
{
    int lo = 0, hi = g->nlive;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (g->live[mid]->tid < tid)
            lo = mid + 1;
        else if (g->live[mid]->tid > tid)
            hi = mid;
        else
            return g->live[mid];
    }
    return NULL;
}

const struct tl_held *tl_waitgraph_held(const struct tl_thread *t, uintptr_t addr)
{
    for (int i = 0; i < t->nheld && i < TL_MAX_HELD; i++)
        if (t->held[i].addr == addr)
            return &t->held[i];
    return NULL;
}

int tl_waitgraph_index(const struct tl_waitgraph *g, const struct tl_thread *t)
{
    for (int i = 0; i < g->n; i++)
        if (g->nodes[i].thread == t)
            return i;
    return -1;
}

static void add_owner(struct tl_waitgraph *g, struct tl_wg_node *node, struct tl_thread *owner)
{
    if (!owner)
        return;
    if (!node->owner)
        node->owner = owner;
    int j = tl_waitgraph_index(g, owner);
    if (j >= 0 && node->nout < TL_WG_MAX_OWNERS)
        node->out[node->nout++] = j;
}

/* Blocked threads holding `addr` in `mode` (or any mode when mode < 0). */
static void add_holders(struct tl_waitgraph *g, struct tl_wg_node *node, int mode)
{
    for (int j = 0; j < g->n; j++) {
        const struct tl_held *h = tl_waitgraph_held(g->nodes[j].thread, node->wait.addr);
        if (h && (mode < 0 || h->mode == mode))
            add_owner(g, node, g->nodes[j].thread);
    }
}

static void resolve_owners(struct tl_waitgraph *g, struct tl_wg_node *node)
{
    const struct tl_wait_snapshot *w = &node->wait;
    switch (w->kind) {
    case TL_WAIT_MUTEX:
    case TL_WAIT_C11_MUTEX: {
        const volatile pthread_mutex_t *m = (const void *)w->addr;
        add_owner(g, node, thread_of_tid(g, m->__data.__owner & TID_MASK));
        break;
    }
    case TL_WAIT_RWLOCK_READ:
    case TL_WAIT_RWLOCK_WRITE: {
        const volatile pthread_rwlock_t *rw = (const void *)w->addr;
        int writer = rw->__data.__cur_writer;
        if (writer)
            add_owner(g, node, thread_of_tid(g, writer));
        else if (w->kind == TL_WAIT_RWLOCK_WRITE &&
                 (rw->__data.__readers >> RWLOCK_READER_SHIFT) != 0)
            add_holders(g, node, TL_MODE_READ);
        break;
    }
    case TL_WAIT_SPIN:
        add_holders(g, node, -1); /* glibc keeps no spinlock owner */
        break;
    case TL_WAIT_JOIN: {
        struct tl_thread *target = tl_thread_by_handle((pthread_t)w->addr);
        if (target && atomic_load(&target->alive))
            add_owner(g, node, target);
        break;
    }
    default:
        break;
    }
}

int tl_waitgraph_build(struct tl_waitgraph *g)
{
    g->n = g->nlive = 0;
    int count = 0;
    for (struct tl_thread *t = tl_thread_first(); t; t = t->next)
        count++;
    if (grow((void **)&g->nodes, &g->cap, count, sizeof *g->nodes) < 0 ||
        grow((void **)&g->live, &g->live_cap, count, sizeof *g->live) < 0)
        return TL_ENOMEM;
    for (struct tl_thread *t = tl_thread_first(); t && g->nlive < count; t = t->next) {
        if (!atomic_load(&t->alive))
            continue;
        g->live[g->nlive++] = t;
        struct tl_wg_node *node = &g->nodes[g->n];
        *node = (struct tl_wg_node){.thread = t};
        if (tl_wait_read(t, &node->wait))
            g->n++;
    }
    qsort(g->live, (size_t)g->nlive, sizeof *g->live, by_tid);
    for (int i = 0; i < g->n; i++)
        resolve_owners(g, &g->nodes[i]);
    return 0;
}
