/* waitgraph.c - the wait-for graph of blocked threads (see waitgraph.h). */
#include "waitgraph.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "errors.h"
#include "lockmap.h"

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

void tl_waitgraph_request_stacks(const struct tl_waitgraph *g, const int *nodes, int n)
{
    if (n <= 0)
        return;
    struct tl_thread **threads = malloc((size_t)n * sizeof *threads);
    unsigned *seqs = malloc((size_t)n * sizeof *seqs);
    if (threads && seqs) {
        for (int i = 0; i < n; i++) {
            threads[i] = g->nodes[nodes[i]].thread;
            seqs[i] = g->nodes[nodes[i]].wait.seq;
        }
        tl_wait_request_stacks(threads, seqs, n);
    }
    free(threads);
    free(seqs);
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

/*
 * Where the kernel says `t` is blocked: /proc/self/task/TID/syscall reads
 * "202 0xADDR ..." while it sleeps in futex(ADDR, ...). Returns ADDR, or 0.
 */
static uintptr_t futex_address(const struct tl_thread *t)
{
    char path[64], buf[128];
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)t->tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *end;
    long nr = strtol(buf, &end, 10);
    if (nr != SYS_futex || *end != ' ')
        return 0;
    return (uintptr_t)strtoull(end + 1, NULL, 16);
}

/*
 * An uncontended-looking mutex lock records no wait (wrap_pthread_mutex.c),
 * so a lock's owner can block unrecorded when it lost a race at the last
 * instant. Owners that block without a record are asked of the kernel: a
 * futex sleep on a mutex's lock word (offset 0) is a wait on that mutex.
 */
static void add_unrecorded_waits(struct tl_waitgraph *g, int count)
{
    for (int i = 0; i < g->n && g->n < count; i++) {
        const struct tl_wg_node *node = &g->nodes[i];
        struct tl_thread *owner = node->owner;
        if (!owner || !tl_wait_is_lock(node->wait.kind) || tl_waitgraph_index(g, owner) >= 0 ||
            !atomic_load(&owner->alive))
            continue;
        uintptr_t addr = futex_address(owner);
        struct tl_lock *l = addr ? tl_lockmap_find(addr) : NULL;
        if (!l || (l->kind != TL_LOCK_MUTEX && l->kind != TL_LOCK_C11))
            continue;
        struct tl_wg_node *added = &g->nodes[g->n++];
        *added = (struct tl_wg_node){.thread = owner};
        added->wait = (struct tl_wait_snapshot){
            .seq = atomic_load(&owner->wait.seq), .addr = addr, .lock = l,
            .kind = l->kind == TL_LOCK_C11 ? TL_WAIT_C11_MUTEX : TL_WAIT_MUTEX};
        resolve_owners(g, added);
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
    int recorded = g->n;
    add_unrecorded_waits(g, count);
    /* Edges into the nodes just added, from the recorded waits that lead to them. */
    for (int i = 0; i < recorded && g->n > recorded; i++) {
        g->nodes[i].nout = 0;
        g->nodes[i].owner = NULL;
        resolve_owners(g, &g->nodes[i]);
    }
    return 0;
}
