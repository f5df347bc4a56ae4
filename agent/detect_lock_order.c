/* detect_lock_order.c - lock-order inversion detector (see detect_lock_order.h). */
#include "detect_lock_order.h"

#include <errno.h>
#include <string.h>

#include "lockgraph.h"
#include "log.h"
#include "stack_cache.h"

#define REPORTED_SIZE 4096 /* power of two */

static uint64_t reported[REPORTED_SIZE]; /* cycle signatures already reported; graph lock */
static int nreported;                    /* slots of reported[] in use; graph lock */
static int reported_full_logged;         /* graph lock */

static inline struct tl_edge *find_edge(struct tl_thread *self, struct tl_lock *from,
                                        struct tl_lock *to)
{
    uint64_t key = tl_edge_key(from, to);
    struct tl_ecache_entry *c = tl_ecache_slot(self, key);
    if (c->key == key)
        return c->edge;
    struct tl_edge *e = tl_graph_find(from, to);
    if (e) {
        c->key = key;
        c->edge = e;
        c->steady = 0;
    }
    return e;
}

static int holds_lock_id(const struct tl_thread *self, uint32_t id)
{
    for (int i = 0; i < self->nheld; i++)
        if (self->held[i].lock && self->held[i].lock->id == id)
            return 1;
    return 0;
}

/* Repeated acquisition of a known edge: it may add a second thread or lose a gate. */
static void note_evidence(struct tl_thread *self, struct tl_edge *e)
{
    /* The steady state: nothing new to learn from this acquisition. */
    if ((e->thread == self->id || atomic_load_explicit(&e->multi, memory_order_relaxed)) &&
        !atomic_load_explicit(&e->gated, memory_order_relaxed))
        return;
    int changed = 0, gates_left = 0;
    if (e->thread != self->id && !atomic_load_explicit(&e->multi, memory_order_relaxed)) {
        atomic_store_explicit(&e->multi, 1, memory_order_relaxed);
        changed = 1;
    }
    for (int g = 0; g < TL_EDGE_GATES; g++) {
        uint32_t gate = atomic_load_explicit(&e->gates[g], memory_order_relaxed);
        if (gate && !holds_lock_id(self, gate)) {
            atomic_store_explicit(&e->gates[g], 0, memory_order_relaxed);
            changed = 1;
        } else if (gate) {
            gates_left = 1;
        }
    }
    if (!gates_left)
        atomic_store_explicit(&e->gated, 0, memory_order_relaxed);
    if (changed)
        tl_publish(&e->pub);
}

static void set_gates(struct tl_thread *self, struct tl_edge *e)
{
    int g = 0;
    for (int i = 0; i < self->nheld && g < TL_EDGE_GATES; i++) {
        struct tl_lock *l = self->held[i].lock;
        if (l && l != e->from && l != e->to)
            atomic_store_explicit(&e->gates[g++], l->id, memory_order_relaxed);
    }
    atomic_store_explicit(&e->gated, g > 0, memory_order_relaxed);
}

/* Graph lock held. Returns 1 when the cycle was reported before (or cannot be remembered). */
static int already_reported(struct tl_edge **cycle, int n)
{
    uint64_t sig = 0;
    for (int i = 0; i < n; i++) {
        uint64_t x = (uint64_t)cycle[i]->id * 0x9E3779B97F4A7C15ull;
        sig += x ^ (x >> 31); /* order-independent: the same cycle from any edge */
    }
    sig |= 1;
    for (unsigned i = 0, k = (unsigned)sig; i < REPORTED_SIZE; i++, k++) {
        uint64_t *slot = &reported[k & (REPORTED_SIZE - 1)];
        if (*slot == sig)
            return 1;
        if (*slot == 0) {
            *slot = sig;
            nreported++;
            return 0;
        }
    }
    if (!reported_full_logged) {
        reported_full_logged = 1;
        tl_log(TL_LOG_ERROR, "too many lock-order cycles; further ones are not reported");
    }
    return 1;
}

static void report_cycle(struct tl_thread *self, struct tl_edge **cycle, int n)
{
    if (already_reported(cycle, n))
        return;
    /* Start at the lock seen first, so the report reads in program order. */
    int start = 0;
    for (int i = 1; i < n; i++)
        if (cycle[i]->from->id < cycle[start]->from->id)
            start = i;
    struct tl_finding *f = tl_finding_new(TL_FINDING_LOCK_ORDER, TL_SEVERITY_ERROR, self->id,
                                          (unsigned)n);
    if (!f)
        return;
    for (int i = 0; i < n; i++) {
        struct tl_edge *e = cycle[(start + i) % n];
        f->items[i] = (struct tl_finding_item){.role = TL_ROLE_EDGE, .thread = e->thread,
                                               .edge = e, .lock = e->from};
    }
    atomic_store(&f->severity, tl_lock_order_severity(f));
    tl_publish(&f->pub);
}

static void check_cycle(struct tl_thread *self, struct tl_edge *e, int held, int acq)
{
    struct tl_edge *cycle[TL_MAX_CYCLE];
    int n = tl_graph_find_cycle(e, held, acq, cycle, TL_MAX_CYCLE);
    if (n > 0)
        report_cycle(self, cycle, n);
}

/* Under the graph lock: creates the edge or adds a mode pair to it. */
static void record_edge(struct tl_thread *self, struct tl_held *h, struct tl_lock *lock,
                        int mode, const struct tl_frame *frames, int nframes,
                        struct tl_stack *acquire_stack)
{
    unsigned bit = TL_MODE_BIT(h->mode, mode);
    struct tl_edge *e = tl_graph_find(h->lock, lock);
    if (!e) {
        e = tl_graph_add(h->lock, lock, self->id);
        if (!e)
            return;
        tl_lockmap_pin(h->lock); /* edges point at both records: never recycled */
        tl_lockmap_pin(lock);
        e->held_stack = tl_stack_of_held(frames, nframes, h->caller);
        e->acquire_stack = acquire_stack;
        set_gates(self, e);
    } else if (atomic_load_explicit(&e->modes, memory_order_relaxed) & bit) {
        note_evidence(self, e);
        return;
    } else {
        note_evidence(self, e);
    }
    atomic_fetch_or_explicit(&e->modes, (unsigned char)bit, memory_order_relaxed);
    tl_publish(&e->pub);
    check_cycle(self, e, h->mode, mode);
}

/*
 * A thread keeps its unwinds for reuse (4 KiB) once it has made this many:
 * most threads learn a few lock orders and never need it; memcached's
 * workers learn thousands of edges from two call sites.
 */
#define KEEP_UNWINDS_AFTER 16

/* The stack at `caller`, with each frame's stack pointer. */
static int unwind_here(struct tl_thread *self, const struct tl_caller *caller,
                       struct tl_frame *frames)
{
    if (!caller)
        return tl_stack_unwind(frames, TL_STACK_MAX);
    if (!self->stack_cache && ++self->new_fact_unwinds > KEEP_UNWINDS_AFTER)
        self->stack_cache = tl_stack_cache_new();
    return tl_stack_cache_unwind(self->stack_cache, *caller, frames, TL_STACK_MAX);
}

static void new_facts(struct tl_thread *self, struct tl_lock *lock, int mode,
                      const struct tl_caller *caller)
{
    int saved_errno = errno;
    self->in_agent++;
    struct tl_frame frames[TL_STACK_MAX];
    int nframes = unwind_here(self, caller, frames);
    struct tl_stack *acquire_stack = tl_stack_from_frames(frames, nframes, 0);
    tl_graph_lock();
    for (int i = 0; i < self->nheld; i++) {
        struct tl_held *h = &self->held[i];
        if (h->lock && h->lock != lock)
            record_edge(self, h, lock, mode, frames, nframes, acquire_stack);
    }
    tl_graph_unlock();
    self->in_agent--;
    errno = saved_errno;
}

/*
 * The edge's steady_out word (lockmap.h). It depends on the edge alone, so
 * every thread that writes it writes the same value or a later one: the
 * edge's own thread until several threads took it, then every thread, with
 * each mode pair seen. Only called when the edge is steady for the caller.
 */
static uint64_t steady_out_word(const struct tl_edge *e)
{
    uint32_t who = atomic_load_explicit(&e->multi, memory_order_relaxed) ? 0 : e->thread;
    unsigned modes = atomic_load_explicit(&e->modes, memory_order_relaxed);
    return tl_steady_out_word(e->to->id, who) | (modes & 0xf);
}

/*
 * Puts `e` among its source's steady successors: in the slot that names its
 * target already, else in the first free one. A full set stays as it is.
 * Racing writers may leave an older word; a later miss writes it again.
 */
static void note_steady_out(const struct tl_edge *e)
{
    if (e->thread > TL_STEADY_THREAD_MAX)
        return;
    uint64_t want = steady_out_word(e);
    for (int i = 0; i < TL_LOCK_STEADY_OUT; i++) {
        _Atomic uint64_t *slot = &e->from->steady_out[i];
        uint64_t w = atomic_load_explicit(slot, memory_order_relaxed);
        if (w == 0 && atomic_compare_exchange_strong_explicit(slot, &w, want, memory_order_relaxed,
                                                              memory_order_relaxed))
            return;
        if (w >> 32 == e->to->id) {
            if (w != want)
                atomic_store_explicit(slot, want, memory_order_relaxed);
            return;
        }
    }
}

/*
 * Whether `self` has nothing left to learn from taking `e` in mode pair
 * `bit`: the pair is known, the edge is not (or no longer) gated, and it is
 * this thread's own edge or already taken by several threads. Each of these
 * only ever changes towards true (modes gain bits, multi is set once, gates
 * are only cleared), so once steady, always steady: the source lock's steady
 * successors and the edge cache keep the answer, and the hot path
 * (lockops.h) skips the edge entirely.
 */
static void note_steady(struct tl_thread *self, struct tl_edge *e, unsigned bit)
{
    if (!(atomic_load_explicit(&e->modes, memory_order_relaxed) & bit) ||
        atomic_load_explicit(&e->gated, memory_order_relaxed) ||
        (e->thread != self->id && !atomic_load_explicit(&e->multi, memory_order_relaxed)))
        return;
    note_steady_out(e);
    uint64_t key = tl_edge_key(e->from, e->to);
    struct tl_ecache_entry *c = tl_ecache_slot(self, key);
    if (c->key == key)
        c->steady |= bit;
}

/*
 * Called after `self` acquired `lock` (not yet pushed on held[]) when the
 * edge cache did not know every edge as steady (lockops.h). An edge among the
 * held lock's steady successors costs a look at a line already in cache;
 * other known edges cost a table probe and a few loads; anything new goes to
 * new_facts(), which unwinds once for all of them.
 */
__attribute__((noinline)) void tl_lock_order_on_acquire(struct tl_thread *self,
                                                       struct tl_lock *lock, int mode,
                                                       const struct tl_caller *caller)
{
    int need_new = 0;
    for (int i = 0; i < self->nheld; i++) {
        struct tl_held *h = &self->held[i];
        if (!h->lock || h->lock == lock ||
            tl_lock_order_steady_out(h->lock, lock->id, self->id, TL_MODE_BIT(h->mode, mode)))
            continue;
        struct tl_edge *e = find_edge(self, h->lock, lock);
        if (!e || !(atomic_load_explicit(&e->modes, memory_order_relaxed) &
                    TL_MODE_BIT(h->mode, mode))) {
            need_new = 1;
            continue;
        }
        note_evidence(self, e);
        note_steady(self, e, TL_MODE_BIT(h->mode, mode));
    }
    if (__builtin_expect(need_new, 0))
        new_facts(self, lock, mode, caller);
}

static int gate_common_to_all(const struct tl_finding *f)
{
    const struct tl_edge *first = f->items[0].edge;
    for (int g = 0; g < TL_EDGE_GATES; g++) {
        uint32_t gate = atomic_load_explicit(&first->gates[g], memory_order_relaxed);
        if (!gate)
            continue;
        unsigned i;
        for (i = 1; i < f->nitems; i++) {
            const struct tl_edge *e = f->items[i].edge;
            int found = 0;
            for (int k = 0; k < TL_EDGE_GATES; k++)
                found |= atomic_load_explicit(&e->gates[k], memory_order_relaxed) == gate;
            if (!found)
                break;
        }
        if (i == f->nitems)
            return 1;
    }
    return 0;
}

int tl_lock_order_severity(const struct tl_finding *f)
{
    if (f->nitems == 0)
        return TL_SEVERITY_ERROR;
    if (gate_common_to_all(f))
        return TL_SEVERITY_INFO;
    uint32_t first_thread = f->items[0].edge->thread;
    for (unsigned i = 0; i < f->nitems; i++) {
        const struct tl_edge *e = f->items[i].edge;
        if (atomic_load_explicit(&e->multi, memory_order_relaxed) || e->thread != first_thread)
            return TL_SEVERITY_ERROR;
    }
    return TL_SEVERITY_WARNING;
}

void tl_lock_order_after_fork_child(void)
{
    /*
     * Most processes never report a cycle: clearing the 32 KiB regardless
     * cost every fork child eight page faults (pages it never needed).
     */
    if (nreported)
        memset(reported, 0, sizeof reported);
    nreported = 0;
    reported_full_logged = 0;
}
