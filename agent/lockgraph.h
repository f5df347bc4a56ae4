/*
 * lockgraph.h - the lock-order graph. Nodes are lock records; edge A->B means
 * "B was acquired while A was held". Edges are only added, never removed; a
 * retired (destroyed) lock keeps its edges but searches skip it, so they can
 * never close a new cycle.
 *
 * Lookups of an existing edge are lock-free (addrmap keyed by the two ids).
 * Adding an edge, changing adjacency and searching happen under graph_lock, a
 * tl_spin taken only for new facts. Storage: the arena and a fixed-size map;
 * when either is full the graph freezes and one line names the limit.
 *
 * Evidence fields of an edge (modes, multi, gates) change after creation; they
 * are atomics written by any thread that takes the edge again.
 */
#ifndef TL_LOCKGRAPH_H
#define TL_LOCKGRAPH_H

#include <stdatomic.h>
#include <stdint.h>

#include "lockmap.h"
#include "publish.h"
#include "stack.h"

#define TL_EDGE_GATES 4
#define TL_MAX_CYCLE 32

/* Mode pair bit of an edge: held mode and acquired mode (enum tl_mode, 0 read, 1 write). */
#define TL_MODE_BIT(held, acq) (1u << ((held) * 2 + (acq)))

struct tl_edge {
    struct tl_pub pub;                   /* collector queue link */
    uint32_t id;                         /* per process, from 1 */
    struct tl_lock *from, *to;
    struct tl_edge *next_out;            /* from->out list, under graph_lock */
    uint32_t thread;                     /* first thread that took it */
    atomic_uchar multi;                  /* taken by two or more threads */
    atomic_uchar modes;                  /* TL_MODE_BIT set of pairs seen */
    _Atomic uint32_t gates[TL_EDGE_GATES]; /* lock ids held at every acquisition; 0 = none */
    atomic_uchar gated;                  /* some gates[] entry is still set */
    struct tl_stack *held_stack;         /* where `from` was acquired */
    struct tl_stack *acquire_stack;      /* where `to` was acquired */
    int64_t first_ns;
};

/*
 * The key of edge from -> to, in the edge table and in the threads' edge
 * caches: the two lock ids, which records keep for life.
 */
static inline uint64_t tl_edge_key(const struct tl_lock *from, const struct tl_lock *to)
{
    return ((uint64_t)from->id << 32) | to->id;
}

int tl_graph_init(unsigned order);
void tl_graph_lock(void);
void tl_graph_unlock(void);
/* Lock-free lookup of A->B. NULL when absent. */
struct tl_edge *tl_graph_find(const struct tl_lock *from, const struct tl_lock *to);
/* Adds A->B (graph lock held). Returns the new edge, or NULL when the graph is full. */
struct tl_edge *tl_graph_add(struct tl_lock *from, struct tl_lock *to, uint32_t thread);
/*
 * Searches for the shortest cycle that `edge`, taken in mode pair (held,
 * acq), closes, where every lock on it can block: at each lock, the mode it
 * is acquired in or the mode it is held in is write (two readers never block
 * each other). Graph lock held.
 * Returns the number of edges written to cycle[], starting with `edge`: 0 when
 * there is none, TL_EFULL when the search queue overflowed.
 */
int tl_graph_find_cycle(struct tl_edge *edge, int held, int acq, struct tl_edge **cycle,
                        int max);
uint32_t tl_graph_edge_count(void);
/* Fork child: forget every edge. */
void tl_graph_after_fork_child(void);

/* fork: hold the table lock across fork so the child inherits a consistent table. */
void tl_graph_fork_prepare(void);
void tl_graph_fork_parent(void);

#endif
