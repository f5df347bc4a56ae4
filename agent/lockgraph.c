/*
 * lockgraph.c - lock-order graph storage and the cycle search (see lockgraph.h).
 *
 * The search is one breadth-first walk from the new edge's target back to its
 * source, so the first cycle found is a shortest one. Its states are
 * (lock, mode the lock was reached in): whether the walk may leave a lock by
 * an edge depends on that mode (see tl_graph_find_cycle). Visit marks are a
 * generation counter, as in lockdep, so nothing is cleared between searches.
 */
#include "lockgraph.h"

#include "addrmap.h"
#include "arena.h"
#include "clock.h"
#include "errors.h"
#include "log.h"
#include "spin.h"
#include "thread.h"

#define QUEUE_SIZE 65536

/*
 * A search state and how it was reached: the path back to the start follows
 * `parent` through the queue, so lock records carry only their visit marks.
 */
struct bfs_state {
    struct tl_lock *lock;
    struct tl_edge *via; /* edge the search arrived by; NULL at the start */
    uint32_t parent;     /* queue index of the state it arrived from */
    uint8_t mode;        /* mode the lock was acquired in when reached */
};

#define EDGES_ORDER_MIN 14 /* 256 KiB; it grows (addrmap.h) */

static struct tl_spin graph_lock = TL_SPIN_INIT;
static struct tl_growmap edges;               /* (from, to) ids -> edge; insert: graph_lock */
static atomic_uint edge_count;
static uint32_t bfs_gen;                      /* under graph_lock */
static struct bfs_state queue[QUEUE_SIZE];    /* under graph_lock */
static int full_logged;                       /* under graph_lock */

int tl_graph_init(unsigned order)
{
    return tl_growmap_init(&edges, EDGES_ORDER_MIN, order);
}

void tl_graph_lock(void)
{
    tl_spin_lock(&graph_lock);
}

void tl_graph_unlock(void)
{
    tl_spin_unlock(&graph_lock);
}

struct tl_edge *tl_graph_find(const struct tl_lock *from, const struct tl_lock *to)
{
    return tl_growmap_find(&edges, tl_edge_key(from, to));
}

static void log_full_once(void)
{
    if (!full_logged) {
        full_logged = 1;
        tl_log(TL_LOG_ERROR, "lock-order graph full; new lock orders are not checked");
    }
}

struct tl_edge *tl_graph_add(struct tl_lock *from, struct tl_lock *to, uint32_t thread)
{
    struct tl_addrmap_slot *s = tl_growmap_slot(&edges, tl_edge_key(from, to), 1);
    struct tl_edge *e = s ? tl_arena_alloc(sizeof *e) : NULL;
    if (!e) {
        log_full_once();
        return NULL;
    }
    e->pub.type = TL_PUB_EDGE;
    e->id = atomic_fetch_add(&edge_count, 1) + 1;
    e->from = from;
    e->to = to;
    e->thread = thread;
    e->first_ns = tl_now_ns();
    e->next_out = from->out;
    from->out = e;
    /* Release: a lock-free finder sees a fully built edge. */
    atomic_store_explicit(&s->value, e, memory_order_release);
    return e;
}

static int visit(struct tl_lock *l, int mode, struct tl_edge *via, int parent, int *tail)
{
    if (l->bfs_gen[mode] == bfs_gen)
        return 0;
    if (*tail == QUEUE_SIZE)
        return TL_EFULL;
    l->bfs_gen[mode] = bfs_gen;
    queue[(*tail)++] = (struct bfs_state){l, via, (uint32_t)parent, (uint8_t)mode};
    return 0;
}

/* Walks parent links from the state at queue index `at` back to the new edge's target. */
static int collect_path(int at, struct tl_edge *edge, struct tl_edge **cycle, int max)
{
    struct tl_edge *rev[TL_MAX_CYCLE];
    int n = 0;
    for (const struct bfs_state *st = &queue[at]; st->via; st = &queue[st->parent]) {
        if (n == TL_MAX_CYCLE - 1)
            return 0;
        rev[n++] = st->via;
    }
    if (n + 1 > max)
        return 0;
    cycle[0] = edge;
    for (int i = 0; i < n; i++)
        cycle[i + 1] = rev[n - 1 - i];
    return n + 1;
}

/*
 * A walk in state (l, in_mode) may leave l by edge e in pair (held, acq) when
 * one of the two holds can block the other: in_mode or held is write.
 */
int tl_graph_find_cycle(struct tl_edge *edge, int held, int acq, struct tl_edge **cycle,
                        int max)
{
    struct tl_lock *source = edge->from;
    if (++bfs_gen == 0)
        bfs_gen = 1;
    int head = 0, tail = 0;
    if (visit(edge->to, acq, NULL, 0, &tail) < 0)
        return TL_EFULL;
    while (head < tail) {
        int at = head++;
        struct bfs_state st = queue[at];
        if (st.lock == source) {
            if (st.mode == TL_MODE_WRITE || held == TL_MODE_WRITE)
                return collect_path(at, edge, cycle, max);
            continue; /* a cycle must end here; going past the source finds nothing new */
        }
        for (struct tl_edge *e = st.lock->out; e; e = e->next_out) {
            if (atomic_load_explicit(&e->to->retired, memory_order_relaxed))
                continue;
            unsigned modes = atomic_load_explicit(&e->modes, memory_order_relaxed);
            for (int h = TL_MODE_READ; h <= TL_MODE_WRITE; h++) {
                if (st.mode == TL_MODE_READ && h == TL_MODE_READ)
                    continue;
                for (int a = TL_MODE_READ; a <= TL_MODE_WRITE; a++) {
                    if (!(modes & TL_MODE_BIT(h, a)))
                        continue;
                    if (visit(e->to, a, e, at, &tail) < 0) {
                        log_full_once();
                        return TL_EFULL;
                    }
                }
            }
        }
    }
    return 0;
}

uint32_t tl_graph_edge_count(void)
{
    return atomic_load(&edge_count);
}

void tl_graph_after_fork_child(void)
{
    tl_spin_reset(&graph_lock);
    tl_growmap_clear(&edges);
    atomic_store(&edge_count, 0);
}

void tl_graph_fork_prepare(void)
{
    tl_spin_lock(&graph_lock);
}

void tl_graph_fork_parent(void)
{
    tl_spin_unlock(&graph_lock);
}
