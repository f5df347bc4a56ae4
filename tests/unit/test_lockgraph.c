/*
 * test_lockgraph.c - agent/lockgraph.c: edge storage and the cycle search.
 * The graph and the lockmap are process-global; every case makes its own
 * locks (new_lock()), so cases see only their own edges.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "errors.h"
#include "lockgraph.h"
#include "lockmap.h"
#include "log.h"
#include "thread.h"

#define R TL_MODE_READ
#define W TL_MODE_WRITE

static uintptr_t next_addr = 0x560000001000ull;

static uintptr_t new_addr(void)
{
    next_addr += 64;
    return next_addr;
}

static struct tl_lock *new_lock(void)
{
    struct tl_lock *l = tl_lockmap_get(new_addr(), TL_LOCK_MUTEX, 1, 0);
    assert_non_null(l);
    return l;
}

/* Records from -> to taken in mode pair (held, acq), as the detector does. */
static struct tl_edge *edge_modes(struct tl_lock *from, struct tl_lock *to, int held, int acq)
{
    tl_graph_lock();
    struct tl_edge *e = tl_graph_find(from, to);
    if (!e)
        e = tl_graph_add(from, to, 1);
    if (e)
        atomic_fetch_or(&e->modes, (unsigned char)TL_MODE_BIT(held, acq));
    tl_graph_unlock();
    assert_non_null(e);
    return e;
}

static struct tl_edge *edge(struct tl_lock *from, struct tl_lock *to)
{
    return edge_modes(from, to, W, W);
}

static int find_cycle(struct tl_edge *e, int held, int acq, struct tl_edge **cycle, int max)
{
    tl_graph_lock();
    int n = tl_graph_find_cycle(e, held, acq, cycle, max);
    tl_graph_unlock();
    return n;
}

/* A reported cycle starts with the new edge and is closed: each edge ends where the next starts. */
static void assert_closed_cycle(struct tl_edge **cycle, int n, struct tl_edge *first)
{
    assert_true(n >= 2);
    assert_ptr_equal(cycle[0], first);
    for (int i = 0; i < n; i++)
        assert_ptr_equal(cycle[i]->to, cycle[(i + 1) % n]->from);
}

static int setup_group(void **state)
{
    (void)state;
    tl_log_set_level(TL_LOG_QUIET); /* the queue-overflow case logs by design */
    if (tl_lockmap_init(20) < 0 || tl_graph_init(21) < 0)
        return -1;
    return 0;
}

static void test_lockgraph_add_then_find(void **state)
{
    (void)state;
    struct tl_lock *a = new_lock(), *b = new_lock();
    uint32_t before = tl_graph_edge_count();
    assert_null(tl_graph_find(a, b));

    tl_graph_lock();
    struct tl_edge *e = tl_graph_add(a, b, 7);
    tl_graph_unlock();
    assert_non_null(e);
    assert_ptr_equal(e->from, a);
    assert_ptr_equal(e->to, b);
    assert_int_equal(e->thread, 7);
    assert_int_equal(e->pub.type, TL_PUB_EDGE);
    assert_true(e->id >= 1);
    assert_int_equal(atomic_load(&e->modes), 0);
    assert_int_equal(tl_graph_edge_count(), before + 1);

    assert_ptr_equal(tl_graph_find(a, b), e);
    assert_null(tl_graph_find(b, a)); /* edges are directed */
    assert_ptr_equal(a->out, e);
    assert_null(b->out);

    struct tl_lock *c = new_lock();
    struct tl_edge *ac = edge(a, c);
    assert_ptr_equal(tl_graph_find(a, c), ac);
    assert_ptr_equal(tl_graph_find(a, b), e);
    assert_int_not_equal(ac->id, e->id);
    assert_int_equal(tl_graph_edge_count(), before + 2);
    /* Both are on a's adjacency list. */
    int seen = 0;
    for (struct tl_edge *x = a->out; x; x = x->next_out)
        seen |= (x == e) | (x == ac) << 1;
    assert_int_equal(seen, 3);
}

static void test_lockgraph_two_lock_cycle_found(void **state)
{
    (void)state;
    struct tl_lock *a = new_lock(), *b = new_lock();
    struct tl_edge *ab = edge(a, b);
    struct tl_edge *cycle[TL_MAX_CYCLE];
    assert_int_equal(find_cycle(ab, W, W, cycle, TL_MAX_CYCLE), 0);

    struct tl_edge *ba = edge(b, a);
    int n = find_cycle(ba, W, W, cycle, TL_MAX_CYCLE);
    assert_int_equal(n, 2);
    assert_ptr_equal(cycle[0], ba);
    assert_ptr_equal(cycle[1], ab);
    /* The same cycle, searched from its other edge. */
    n = find_cycle(ab, W, W, cycle, TL_MAX_CYCLE);
    assert_int_equal(n, 2);
    assert_ptr_equal(cycle[0], ab);
    assert_ptr_equal(cycle[1], ba);
}

static void test_lockgraph_three_lock_cycle_found(void **state)
{
    (void)state;
    struct tl_lock *a = new_lock(), *b = new_lock(), *c = new_lock();
    struct tl_edge *ab = edge(a, b), *bc = edge(b, c);
    struct tl_edge *cycle[TL_MAX_CYCLE];
    assert_int_equal(find_cycle(bc, W, W, cycle, TL_MAX_CYCLE), 0);
    struct tl_edge *ca = edge(c, a);
    int n = find_cycle(ca, W, W, cycle, TL_MAX_CYCLE);
    assert_int_equal(n, 3);
    assert_closed_cycle(cycle, n, ca);
    assert_ptr_equal(cycle[1], ab);
    assert_ptr_equal(cycle[2], bc);
}

static void test_lockgraph_five_philosophers_cycle_found(void **state)
{
    (void)state;
    struct tl_lock *forks[5];
    struct tl_edge *e[5];
    for (int i = 0; i < 5; i++)
        forks[i] = new_lock();
    struct tl_edge *cycle[TL_MAX_CYCLE];
    for (int i = 0; i < 4; i++) {
        e[i] = edge(forks[i], forks[i + 1]);
        assert_int_equal(find_cycle(e[i], W, W, cycle, TL_MAX_CYCLE), 0);
    }
    e[4] = edge(forks[4], forks[0]);
    int n = find_cycle(e[4], W, W, cycle, TL_MAX_CYCLE);
    assert_int_equal(n, 5);
    assert_closed_cycle(cycle, n, e[4]);
    for (int i = 0; i < 4; i++)
        assert_ptr_equal(cycle[i + 1], e[i]);
}

/*
 * a->b->c->d and a->d; the new edge d->a closes d->a->b->c->d (4) and
 * d->a->d (2). The short one must be reported, whichever of a's edges the
 * walk meets first.
 */
static void test_lockgraph_prefers_short_cycle(void **state)
{
    (void)state;
    for (int short_first = 0; short_first < 2; short_first++) {
        struct tl_lock *a = new_lock(), *b = new_lock(), *c = new_lock(), *d = new_lock();
        struct tl_edge *ad = NULL;
        if (short_first)
            ad = edge(a, d);
        edge(a, b);
        edge(b, c);
        edge(c, d);
        if (!short_first)
            ad = edge(a, d);
        struct tl_edge *da = edge(d, a);
        struct tl_edge *cycle[TL_MAX_CYCLE];
        int n = find_cycle(da, W, W, cycle, TL_MAX_CYCLE);
        assert_int_equal(n, 2);
        assert_ptr_equal(cycle[0], da);
        assert_ptr_equal(cycle[1], ad);
    }
}

/*
 * a->b->c->d and a->p->d; the new edge d->a closes a 4-cycle and a 3-cycle.
 * A walk that goes deep first (even one marking locks when it queues them)
 * reaches d through c before p, in one of the two adjacency orders.
 */
static void test_lockgraph_prefers_short_cycle_over_longer_path(void **state)
{
    (void)state;
    for (int short_first = 0; short_first < 2; short_first++) {
        struct tl_lock *a = new_lock(), *b = new_lock(), *c = new_lock(), *d = new_lock();
        struct tl_lock *p = new_lock();
        struct tl_edge *ap = NULL;
        if (short_first)
            ap = edge(a, p);
        edge(a, b);
        if (!short_first)
            ap = edge(a, p);
        edge(b, c);
        edge(c, d);
        struct tl_edge *pd = edge(p, d);
        struct tl_edge *da = edge(d, a);
        struct tl_edge *cycle[TL_MAX_CYCLE];
        int n = find_cycle(da, W, W, cycle, TL_MAX_CYCLE);
        assert_int_equal(n, 3);
        assert_ptr_equal(cycle[0], da);
        assert_ptr_equal(cycle[1], ap);
        assert_ptr_equal(cycle[2], pd);
    }
}

static void test_lockgraph_dag_has_no_cycle(void **state)
{
    (void)state;
    /* A diamond with a shortcut: many paths, none back. */
    struct tl_lock *a = new_lock(), *b = new_lock(), *c = new_lock(), *d = new_lock();
    struct tl_edge *es[] = {edge(a, b), edge(a, c), edge(b, d), edge(c, d), edge(a, d),
                            edge(b, c)};
    struct tl_edge *cycle[TL_MAX_CYCLE];
    for (size_t i = 0; i < sizeof es / sizeof es[0]; i++)
        assert_int_equal(find_cycle(es[i], W, W, cycle, TL_MAX_CYCLE), 0);
}

static void test_lockgraph_retired_lock_breaks_cycle(void **state)
{
    (void)state;
    uintptr_t b_addr = new_addr();
    struct tl_lock *a = new_lock(), *c = new_lock();
    struct tl_lock *b = tl_lockmap_get(b_addr, TL_LOCK_MUTEX, 1, 0);
    edge(a, b);
    edge(b, c);
    struct tl_edge *ca = edge(c, a);
    struct tl_edge *cycle[TL_MAX_CYCLE];
    assert_int_equal(find_cycle(ca, W, W, cycle, TL_MAX_CYCLE), 3);

    tl_lockmap_retire(b_addr);
    assert_int_equal(find_cycle(ca, W, W, cycle, TL_MAX_CYCLE), 0);

    /* A new lock at b's address starts with none of b's edges. */
    struct tl_lock *b2 = tl_lockmap_get(b_addr, TL_LOCK_MUTEX, 1, 0);
    assert_ptr_not_equal(b2, b);
    assert_null(tl_graph_find(a, b2));
    struct tl_edge *ab2 = edge(a, b2);
    assert_int_equal(find_cycle(ab2, W, W, cycle, TL_MAX_CYCLE), 0);
    assert_int_equal(find_cycle(ca, W, W, cycle, TL_MAX_CYCLE), 0);
    /* ... and closes a cycle of its own once its own orders do. */
    struct tl_edge *b2c = edge(b2, c);
    int n = find_cycle(b2c, W, W, cycle, TL_MAX_CYCLE);
    assert_int_equal(n, 3);
    assert_closed_cycle(cycle, n, b2c);
}

/* rwlock A and mutex M: A held -> M acquired, then M held -> A acquired. */
static void test_lockgraph_read_read_junction_not_cycle(void **state)
{
    (void)state;
    struct tl_lock *a = new_lock(), *m = new_lock();
    edge_modes(a, m, R, W);                       /* rdlock(A); lock(M) */
    struct tl_edge *ma = edge_modes(m, a, W, R);  /* lock(M); rdlock(A) */
    struct tl_edge *cycle[TL_MAX_CYCLE];
    assert_int_equal(find_cycle(ma, W, R, cycle, TL_MAX_CYCLE), 0);
}

static void test_lockgraph_write_read_junction_is_cycle(void **state)
{
    (void)state;
    struct tl_edge *cycle[TL_MAX_CYCLE];
    /* wrlock(A); lock(M)  vs  lock(M); rdlock(A) */
    struct tl_lock *a = new_lock(), *m = new_lock();
    struct tl_edge *am = edge_modes(a, m, W, W);
    struct tl_edge *ma = edge_modes(m, a, W, R);
    int n = find_cycle(ma, W, R, cycle, TL_MAX_CYCLE);
    assert_int_equal(n, 2);
    assert_ptr_equal(cycle[0], ma);
    assert_ptr_equal(cycle[1], am);

    /* rdlock(A); lock(M)  vs  lock(M); wrlock(A) */
    struct tl_lock *a2 = new_lock(), *m2 = new_lock();
    struct tl_edge *am2 = edge_modes(a2, m2, R, W);
    struct tl_edge *ma2 = edge_modes(m2, a2, W, W);
    n = find_cycle(ma2, W, W, cycle, TL_MAX_CYCLE);
    assert_int_equal(n, 2);
    assert_ptr_equal(cycle[1], am2);
}

/* Two rwlocks taken for reading in both orders never block each other. */
static void test_lockgraph_two_readers_both_orders_not_cycle(void **state)
{
    (void)state;
    struct tl_edge *cycle[TL_MAX_CYCLE];
    struct tl_lock *a = new_lock(), *b = new_lock();
    edge_modes(a, b, R, R);
    struct tl_edge *ba = edge_modes(b, a, R, R);
    assert_int_equal(find_cycle(ba, R, R, cycle, TL_MAX_CYCLE), 0);
    /* wrlock(A); rdlock(B)  vs  rdlock(B); wrlock(A): B is shared, so nothing waits. */
    struct tl_lock *c = new_lock(), *d = new_lock();
    edge_modes(c, d, W, R);
    struct tl_edge *dc = edge_modes(d, c, R, W);
    assert_int_equal(find_cycle(dc, R, W, cycle, TL_MAX_CYCLE), 0);
}

/* The search only follows mode pairs seen on an edge: an edge with none is not followed. */
static void test_lockgraph_edge_without_modes_not_followed(void **state)
{
    (void)state;
    struct tl_lock *a = new_lock(), *b = new_lock();
    tl_graph_lock();
    tl_graph_add(a, b, 1);
    tl_graph_unlock();
    struct tl_edge *ba = edge(b, a);
    struct tl_edge *cycle[TL_MAX_CYCLE];
    assert_int_equal(find_cycle(ba, W, W, cycle, TL_MAX_CYCLE), 0);
    edge(a, b); /* now with (W, W) */
    assert_int_equal(find_cycle(ba, W, W, cycle, TL_MAX_CYCLE), 2);
}

/* A cycle longer than `max` is not written past cycle[max - 1]. */
static void test_lockgraph_cycle_longer_than_max_not_written(void **state)
{
    (void)state;
    struct tl_lock *l[4];
    for (int i = 0; i < 4; i++)
        l[i] = new_lock();
    for (int i = 0; i < 3; i++)
        edge(l[i], l[i + 1]);
    struct tl_edge *back = edge(l[3], l[0]);
    struct tl_edge *cycle[8];
    for (int i = 0; i < 8; i++)
        cycle[i] = (struct tl_edge *)(uintptr_t)0xdead;
    assert_int_equal(find_cycle(back, W, W, cycle, 3), 0);
    for (int i = 3; i < 8; i++)
        assert_ptr_equal(cycle[i], (struct tl_edge *)(uintptr_t)0xdead);
    assert_int_equal(find_cycle(back, W, W, cycle, 4), 4);
}

/* Shortest path length (in edges) from src to dst over adj, by BFS; -1 when unreachable. */
static int oracle_distance(int n, int *const *adj, const int *nadj, int src, int dst)
{
    int *dist = malloc((size_t)n * sizeof *dist);
    int *queue = malloc((size_t)n * sizeof *queue);
    assert_non_null(dist);
    assert_non_null(queue);
    for (int i = 0; i < n; i++)
        dist[i] = -1;
    int head = 0, tail = 0;
    dist[src] = 0;
    queue[tail++] = src;
    while (head < tail) {
        int u = queue[head++];
        for (int k = 0; k < nadj[u]; k++) {
            int v = adj[u][k];
            if (dist[v] < 0) {
                dist[v] = dist[u] + 1;
                queue[tail++] = v;
            }
        }
    }
    int d = dist[dst];
    free(dist);
    free(queue);
    return d;
}

/*
 * 10,000 locks in a chain plus random forward edges: a DAG, so no search finds
 * a cycle. Then back edges close cycles whose length is the forward distance + 1.
 */
/* The edge table starts small and doubles: every edge stays findable across the copies. */
static void test_lockgraph_edges_found_after_table_grows(void **state)
{
    (void)state;
    enum { FROM = 64, TO = 768 }; /* 49152 edges: three doublings past 16k slots */
    struct tl_lock **from = malloc(FROM * sizeof *from), **to = malloc(TO * sizeof *to);
    struct tl_edge **made = malloc(FROM * TO * sizeof *made);
    assert_non_null(from);
    assert_non_null(to);
    assert_non_null(made);
    for (int i = 0; i < FROM; i++)
        from[i] = new_lock();
    for (int j = 0; j < TO; j++)
        to[j] = new_lock();
    uint32_t before = tl_graph_edge_count();
    for (int i = 0; i < FROM; i++)
        for (int j = 0; j < TO; j++) {
            made[i * TO + j] = edge(from[i], to[j]);
            assert_ptr_equal(tl_graph_find(from[i], to[j]), made[i * TO + j]);
        }
    assert_int_equal(tl_graph_edge_count() - before, FROM * TO);
    int lost = 0;
    for (int i = 0; i < FROM; i++)
        for (int j = 0; j < TO; j++)
            lost += tl_graph_find(from[i], to[j]) != made[i * TO + j];
    assert_int_equal(lost, 0);
    assert_null(tl_graph_find(to[0], from[0])); /* and no edge appears that was never added */
    free(from);
    free(to);
    free(made);
}

static void test_lockgraph_large_graph_cycle_length(void **state)
{
    (void)state;
    enum { N = 10000, RANDOM_EDGES = 20000, SEG = 6000, SEG_LEN = 20 };
    struct tl_lock **l = malloc(N * sizeof *l);
    int **adj = calloc(N, sizeof *adj);
    int *nadj = calloc(N, sizeof *nadj);
    int *cap = calloc(N, sizeof *cap);
    struct tl_edge **sample = malloc((N + RANDOM_EDGES) * sizeof *sample);
    assert_non_null(l);
    assert_non_null(adj);
    assert_non_null(nadj);
    assert_non_null(cap);
    assert_non_null(sample);
    int nsample = 0;
    for (int i = 0; i < N; i++)
        l[i] = new_lock();

#define ADD_EDGE(u, v)                                                                    \
    do {                                                                                  \
        if (!tl_graph_find(l[u], l[v])) {                                                 \
            if (nadj[u] == cap[u]) {                                                      \
                cap[u] = cap[u] ? cap[u] * 2 : 4;                                         \
                adj[u] = realloc(adj[u], (size_t)cap[u] * sizeof *adj[u]);                \
                assert_non_null(adj[u]);                                                  \
            }                                                                             \
            adj[u][nadj[u]++] = (v);                                                      \
        }                                                                                 \
        sample[nsample++] = edge(l[u], l[v]);                                             \
    } while (0)

    for (int i = 0; i + 1 < N; i++)
        ADD_EDGE(i, i + 1);
    /* Random forward edges, none touching [SEG, SEG + SEG_LEN]: its only path is the chain. */
    unsigned seed = 12345;
    for (int k = 0; k < RANDOM_EDGES; k++) {
        int u = rand_r(&seed) % N, v = rand_r(&seed) % N;
        if (u == v)
            continue;
        if (u > v) {
            int t = u;
            u = v;
            v = t;
        }
        if ((u >= SEG && u <= SEG + SEG_LEN) || (v >= SEG && v <= SEG + SEG_LEN))
            continue;
        ADD_EDGE(u, v);
    }
#undef ADD_EDGE

    struct tl_edge *cycle[TL_MAX_CYCLE];
    /* The first chain edge reaches the whole graph; the rest are a spread-out sample. */
    assert_int_equal(find_cycle(sample[0], W, W, cycle, TL_MAX_CYCLE), 0);
    for (int k = 1; k < nsample; k += nsample / 200)
        assert_int_equal(find_cycle(sample[k], W, W, cycle, TL_MAX_CYCLE), 0);

    /* Back edge over the isolated segment: exactly the chain distance + 1. */
    struct tl_edge *seg_back = edge(l[SEG + SEG_LEN], l[SEG]);
    int n = find_cycle(seg_back, W, W, cycle, TL_MAX_CYCLE);
    assert_int_equal(n, SEG_LEN + 1);
    assert_closed_cycle(cycle, n, seg_back);
    for (int i = 1; i < n; i++)
        assert_ptr_equal(cycle[i]->from, l[SEG + i - 1]);

    /* Back edge from the last lock to the first: shortest forward path + 1, by an oracle BFS. */
    int dist = oracle_distance(N, adj, nadj, 0, N - 1);
    assert_true(dist >= 1);
    assert_true(dist + 1 <= TL_MAX_CYCLE); /* precondition: random shortcuts keep it short */
    struct tl_edge *back = edge(l[N - 1], l[0]);
    n = find_cycle(back, W, W, cycle, TL_MAX_CYCLE);
    assert_int_equal(n, dist + 1);
    assert_closed_cycle(cycle, n, back);

    for (int i = 0; i < N; i++)
        free(adj[i]);
    free(adj);
    free(nadj);
    free(cap);
    free(sample);
    free(l);
}

/* More reachable states than the search queue holds: TL_EFULL, not an overrun. */
static void test_lockgraph_queue_overflow_returns_efull(void **state)
{
    (void)state;
    enum { FAN = 70000 };
    struct tl_lock *hub = new_lock(), *src = new_lock();
    for (int i = 0; i < FAN; i++)
        edge(hub, new_lock());
    struct tl_edge *into_hub = edge(src, hub);
    struct tl_edge *cycle[TL_MAX_CYCLE];
    assert_int_equal(find_cycle(into_hub, W, W, cycle, TL_MAX_CYCLE), TL_EFULL);
    /* The next, small search still works. */
    struct tl_lock *a = new_lock(), *b = new_lock();
    edge(a, b);
    assert_int_equal(find_cycle(edge(b, a), W, W, cycle, TL_MAX_CYCLE), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lockgraph_add_then_find),
        cmocka_unit_test(test_lockgraph_two_lock_cycle_found),
        cmocka_unit_test(test_lockgraph_three_lock_cycle_found),
        cmocka_unit_test(test_lockgraph_five_philosophers_cycle_found),
        cmocka_unit_test(test_lockgraph_prefers_short_cycle),
        cmocka_unit_test(test_lockgraph_prefers_short_cycle_over_longer_path),
        cmocka_unit_test(test_lockgraph_dag_has_no_cycle),
        cmocka_unit_test(test_lockgraph_retired_lock_breaks_cycle),
        cmocka_unit_test(test_lockgraph_read_read_junction_not_cycle),
        cmocka_unit_test(test_lockgraph_write_read_junction_is_cycle),
        cmocka_unit_test(test_lockgraph_two_readers_both_orders_not_cycle),
        cmocka_unit_test(test_lockgraph_edge_without_modes_not_followed),
        cmocka_unit_test(test_lockgraph_cycle_longer_than_max_not_written),
        cmocka_unit_test(test_lockgraph_edges_found_after_table_grows),
        cmocka_unit_test(test_lockgraph_large_graph_cycle_length),
        cmocka_unit_test(test_lockgraph_queue_overflow_returns_efull),
    };
    return cmocka_run_group_tests(tests, setup_group, NULL);
}
