/*
 * waitgraph.h - the wait-for graph, rebuilt by the collector each tick from
 * the live threads' wait records: a thread waiting for a lock points at the
 * thread(s) holding it (glibc's owner fields; for spinlocks and rwlock
 * readers, the held stacks of threads that are themselves blocked, the only
 * ones whose held stacks are stable), a join points at its target. Condvars,
 * semaphores and barriers have no owner and point nowhere. Collector only.
 */
#ifndef TL_WAITGRAPH_H
#define TL_WAITGRAPH_H

#include "thread.h"
#include "wait.h"

#define TL_WG_MAX_OWNERS 8

struct tl_wg_node {
    struct tl_thread *thread;
    struct tl_wait_snapshot wait;
    struct tl_thread *owner;            /* first thread it waits for, NULL when none known */
    int out[TL_WG_MAX_OWNERS];          /* indices of blocked nodes it waits for */
    int nout;
};

struct tl_waitgraph {
    struct tl_wg_node *nodes;           /* blocked threads only */
    int n, cap;
    struct tl_thread **live;            /* live threads sorted by tid */
    int nlive, live_cap;
};

/* Rebuilds `g` from the current threads. Returns 0, or TL_ENOMEM (the graph is then empty). */
int tl_waitgraph_build(struct tl_waitgraph *g);
/* The node index of `t`, or -1 when it is not blocked. */
int tl_waitgraph_index(const struct tl_waitgraph *g, const struct tl_thread *t);
/*
 * Asks the threads of nodes[0..n) (indices into g->nodes) for their stacks
 * at once (tl_wait_request_stacks), for tl_wait_stack() afterwards.
 */
void tl_waitgraph_request_stacks(const struct tl_waitgraph *g, const int *nodes, int n);
/* The held entry of `t` for the lock at `addr`, or NULL. Only for blocked threads. */
const struct tl_held *tl_waitgraph_held(const struct tl_thread *t, uintptr_t addr);

#endif
