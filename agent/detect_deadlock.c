/* detect_deadlock.c - wait-for cycle detector (see detect_deadlock.h). */
#include "detect_deadlock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "lockmap.h"
#include "log.h"
#include "store.h"

#define MAX_CYCLES 16        /* per tick */
#define MAX_MEMBERS 32
#define ITEMS_PER_MEMBER 5   /* thread, waits, holds, blocked stack, acquired stack */

struct member {
    struct tl_thread *thread;
    unsigned seq;
};

struct deadlock {
    uint64_t sig;
    int n;
    struct member members[MAX_MEMBERS];
    struct tl_finding *finding;  /* NULL for a candidate not reported yet */
};

/* Collector only. */
static struct deadlock candidates[MAX_CYCLES], active[MAX_CYCLES];
static int ncandidates, nactive;
static uint64_t reported_sigs[256];
static int nreported;

static uint64_t signature(const struct member *m, int n)
{
    uint64_t sig = 0;
    for (int i = 0; i < n; i++) {
        uint64_t x = ((uint64_t)m[i].thread->id << 32 | m[i].seq) * 0x9E3779B97F4A7C15ull;
        sig += x ^ (x >> 29); /* order-independent: the same cycle from any member */
    }
    return sig | 1;
}

static int seen_sig(const struct deadlock *list, int n, uint64_t sig)
{
    for (int i = 0; i < n; i++)
        if (list[i].sig == sig)
            return 1;
    return 0;
}

static int was_reported(uint64_t sig)
{
    for (int i = 0; i < nreported; i++)
        if (reported_sigs[i] == sig)
            return 1;
    return 0;
}

int tl_deadlock_involves(const struct tl_thread *t)
{
    for (int i = 0; i < nactive; i++)
        for (int j = 0; j < active[i].n; j++)
            if (active[i].members[j].thread == t)
                return 1;
    return 0;
}

/* Iterative DFS over out-edges; every cycle closed by a back edge is kept. */
static int find_cycles(const struct tl_waitgraph *g, struct deadlock *out, int max)
{
    int found = 0;
    int *color = calloc((size_t)g->n, sizeof *color); /* 0 new, 1 on path, 2 done */
    int *path = malloc((size_t)g->n * sizeof *path);
    int *next_edge = calloc((size_t)g->n, sizeof *next_edge);
    if (!color || !path || !next_edge)
        goto out;
    for (int root = 0; root < g->n && found < max; root++) {
        if (color[root])
            continue;
        int depth = 0;
        path[depth++] = root;
        color[root] = 1;
        while (depth > 0 && found < max) {
            int v = path[depth - 1];
            const struct tl_wg_node *node = &g->nodes[v];
            if (next_edge[v] == node->nout) {
                color[v] = 2;
                depth--;
                continue;
            }
            int w = node->out[next_edge[v]++];
            if (color[w] == 0) {
                color[w] = 1;
                path[depth++] = w;
            } else if (color[w] == 1) {
                int start = depth - 1;
                while (path[start] != w)
                    start--;
                struct deadlock *d = &out[found];
                d->n = 0;
                for (int i = start; i < depth && d->n < MAX_MEMBERS; i++)
                    d->members[d->n++] = (struct member){g->nodes[path[i]].thread,
                                                         g->nodes[path[i]].wait.seq};
                d->sig = signature(d->members, d->n);
                d->finding = NULL;
                found++;
            }
        }
    }
out:
    free(color);
    free(path);
    free(next_edge);
    return found;
}

static const struct tl_wg_node *node_of(const struct tl_waitgraph *g, const struct tl_thread *t)
{
    int i = tl_waitgraph_index(g, t);
    return i >= 0 ? &g->nodes[i] : NULL;
}

static void append(char *buf, size_t size, const char *text)
{
    size_t n = strlen(buf);
    if (n + 1 < size)
        snprintf(buf + n, size - n, "%s", text);
}

/* One member's items: what it waits for, what it holds that the previous member waits for. */
static unsigned member_items(struct tl_finding *f, unsigned k, const struct tl_wg_node *me,
                             const struct tl_wg_node *prev, char *summary, size_t size)
{
    struct tl_thread *t = me->thread;
    struct tl_frame frames[TL_STACK_MAX];
    int nframes = tl_wait_stack(t, me->wait.seq, frames, TL_STACK_MAX);
    struct tl_lock *waits = me->wait.lock;
    char text[400], label[300];
    f->items[k++] = (struct tl_finding_item){.role = TL_ROLE_THREAD, .thread = t->id};
    if (me->wait.kind == TL_WAIT_JOIN) {
        uint32_t target = me->owner ? me->owner->id : 0;
        f->items[k++] = (struct tl_finding_item){.role = TL_ROLE_THREAD, .thread = target,
                                                 .detail = "joins"};
        snprintf(text, sizeof text, "T%u waits to join T%u", t->id, target);
    } else {
        if (!waits)
            waits = tl_lockmap_get(me->wait.addr, TL_LOCK_MUTEX, t->id, 0);
        if (waits)
            f->items[k++] = (struct tl_finding_item){.role = TL_ROLE_LOCK, .lock = waits,
                                                     .detail = "waits"};
        if (waits)
            tl_store_lock_label(waits, label, sizeof label);
        else
            snprintf(label, sizeof label, "lock 0x%lx", (unsigned long)me->wait.addr);
        snprintf(text, sizeof text, "T%u waits for %s held by T%u", t->id, label,
                 me->owner ? me->owner->id : 0);
    }
    append(summary, size, summary[strlen("deadlock: ")] ? "; " : "");
    append(summary, size, text);
    const struct tl_held *held = NULL;
    if (prev && tl_wait_is_lock(prev->wait.kind))
        held = tl_waitgraph_held(t, prev->wait.addr);
    if (held && held->lock)
        f->items[k++] = (struct tl_finding_item){.role = TL_ROLE_LOCK, .lock = held->lock,
                                                 .detail = "holds"};
    f->items[k++] = (struct tl_finding_item){
        .role = TL_ROLE_STACK, .thread = t->id, .lock = waits,
        .stack = tl_stack_from_frames(frames, nframes, 0), .detail = "blocked"};
    if (held)
        f->items[k++] = (struct tl_finding_item){
            .role = TL_ROLE_STACK, .thread = t->id, .lock = held->lock,
            .stack = tl_stack_of_held(frames, nframes, held->caller), .detail = "acquired"};
    return k;
}

static struct tl_finding *report(const struct tl_waitgraph *g, const struct deadlock *d)
{
    struct tl_thread *threads[MAX_MEMBERS];
    unsigned seqs[MAX_MEMBERS];
    for (int i = 0; i < d->n; i++) {
        threads[i] = d->members[i].thread;
        seqs[i] = d->members[i].seq;
    }
    tl_wait_request_stacks(threads, seqs, d->n);
    struct tl_finding *f = tl_finding_new(TL_FINDING_DEADLOCK, TL_SEVERITY_ERROR, 0,
                                          (unsigned)d->n * ITEMS_PER_MEMBER);
    if (!f)
        return NULL;
    char summary[1024] = "deadlock: ";
    unsigned k = 0;
    for (int i = 0; i < d->n; i++) {
        const struct tl_wg_node *me = node_of(g, d->members[i].thread);
        const struct tl_wg_node *prev = node_of(g, d->members[(i + d->n - 1) % d->n].thread);
        if (me)
            k = member_items(f, k, me, prev, summary, sizeof summary);
    }
    f->nitems = k;
    f->summary = tl_finding_text(summary);
    tl_publish(&f->pub);
    tl_log(TL_LOG_ERROR, "%s (threadlens-top --report %s)", summary, tl_store_path());
    return f;
}

/* A member's wait ended: the deadlock is over (a timed wait gave up, or a signal). */
static void resolve_finished(int64_t now_ns)
{
    for (int i = 0; i < nactive;) {
        struct deadlock *d = &active[i];
        int over = 0;
        for (int j = 0; j < d->n && !over; j++)
            over = !tl_wait_same(d->members[j].thread, d->members[j].seq);
        if (!over) {
            i++;
            continue;
        }
        if (d->finding) {
            atomic_store(&d->finding->resolved_ns, now_ns);
            tl_publish(&d->finding->pub);
        }
        active[i] = active[--nactive];
    }
}

int tl_deadlock_tick(const struct tl_waitgraph *g, int64_t now_ns)
{
    resolve_finished(now_ns);
    struct deadlock found[MAX_CYCLES];
    int nfound = find_cycles(g, found, MAX_CYCLES);
    int reported = 0;
    for (int i = 0; i < nfound; i++) {
        struct deadlock *d = &found[i];
        if (!seen_sig(candidates, ncandidates, d->sig) || was_reported(d->sig) ||
            nactive == MAX_CYCLES)
            continue;
        d->finding = report(g, d);
        if (nreported < (int)(sizeof reported_sigs / sizeof reported_sigs[0]))
            reported_sigs[nreported++] = d->sig;
        active[nactive++] = *d;
        reported++;
    }
    memcpy(candidates, found, (size_t)nfound * sizeof *found);
    ncandidates = nfound;
    return reported;
}

void tl_deadlock_after_fork_child(void)
{
    ncandidates = nactive = nreported = 0;
}
