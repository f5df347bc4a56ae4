/* detect_blocked.c - long-blocked threads (see detect_blocked.h). */
#include "detect_blocked.h"

#include <stdio.h>
#include <stdlib.h>

#include "detect_deadlock.h"
#include "finding.h"
#include "store.h"

static const char *call_name(int kind)
{
    switch (kind) {
    case TL_WAIT_MUTEX: return "pthread_mutex_lock";
    case TL_WAIT_RWLOCK_READ: return "pthread_rwlock_rdlock";
    case TL_WAIT_RWLOCK_WRITE: return "pthread_rwlock_wrlock";
    case TL_WAIT_SPIN: return "pthread_spin_lock";
    case TL_WAIT_C11_MUTEX: return "mtx_lock";
    case TL_WAIT_COND: return "a condition wait";
    case TL_WAIT_SEM: return "sem_wait";
    case TL_WAIT_BARRIER: return "pthread_barrier_wait";
    default: return "a join";
    }
}

static int severity_of(const struct tl_waitgraph *g, const struct tl_wg_node *node)
{
    if (tl_wait_is_lock(node->wait.kind) && node->owner &&
        tl_waitgraph_index(g, node->owner) >= 0)
        return TL_SEVERITY_WARNING;
    return TL_SEVERITY_INFO;
}

static void describe(const struct tl_wg_node *node, int64_t blocked_ns, int at_exit, char *buf,
                     size_t size)
{
    const struct tl_thread *t = node->thread;
    char what[320];
    if (node->wait.lock)
        tl_store_lock_label(node->wait.lock, what, sizeof what);
    else if (node->wait.kind == TL_WAIT_JOIN)
        snprintf(what, sizeof what, "thread T%u", node->owner ? node->owner->id : 0);
    else
        snprintf(what, sizeof what, "%s 0x%lx", tl_wait_kind_name(node->wait.kind),
                 (unsigned long)node->wait.addr);
    char owner[64] = "";
    if (tl_wait_is_lock(node->wait.kind) && node->owner)
        snprintf(owner, sizeof owner, " held by T%u", node->owner->id);
    if (at_exit)
        snprintf(buf, size, "thread T%u still blocked at exit in %s on %s%s", t->id,
                 call_name(node->wait.kind), what, owner);
    else
        snprintf(buf, size, "thread T%u blocked for %.1f s in %s on %s%s", t->id,
                 (double)blocked_ns / 1e9, call_name(node->wait.kind), what, owner);
}

static void report(const struct tl_waitgraph *g, const struct tl_wg_node *node,
                   int64_t blocked_ns, int at_exit)
{
    struct tl_thread *t = node->thread;
    struct tl_frame frames[TL_STACK_MAX];
    int nframes = tl_wait_stack(t, node->wait.seq, frames, TL_STACK_MAX);
    struct tl_finding *f = tl_finding_new(TL_FINDING_BLOCKED, severity_of(g, node), t->id, 3);
    if (!f)
        return;
    unsigned k = 0;
    f->items[k++] = (struct tl_finding_item){.role = TL_ROLE_THREAD, .thread = t->id,
                                             .detail = tl_wait_kind_name(node->wait.kind)};
    if (node->wait.lock)
        f->items[k++] = (struct tl_finding_item){.role = TL_ROLE_LOCK, .lock = node->wait.lock,
                                                 .detail = "waits"};
    f->items[k++] = (struct tl_finding_item){
        .role = TL_ROLE_STACK, .thread = t->id, .lock = node->wait.lock,
        .stack = tl_stack_from_frames(frames, nframes, 0), .detail = "blocked"};
    f->nitems = k;
    char summary[512];
    describe(node, blocked_ns, at_exit, summary, sizeof summary);
    f->summary = tl_finding_text(summary);
    t->reported_seq = node->wait.seq;
    tl_publish(&f->pub);
}

/* Asks every chosen thread for its stack at once, then reports each. */
static void report_all(const struct tl_waitgraph *g, const int *chosen, int n, int64_t now_ns,
                       int at_exit)
{
    tl_waitgraph_request_stacks(g, chosen, n);
    for (int i = 0; i < n; i++) {
        const struct tl_wg_node *node = &g->nodes[chosen[i]];
        report(g, node, now_ns - node->thread->seen_ns, at_exit);
    }
}

void tl_blocked_tick(const struct tl_waitgraph *g, int64_t now_ns, int64_t threshold_ns)
{
    int *chosen = malloc((size_t)(g->n ? g->n : 1) * sizeof *chosen);
    if (!chosen)
        return;
    int n = 0;
    for (int i = 0; i < g->n; i++) {
        const struct tl_wg_node *node = &g->nodes[i];
        struct tl_thread *t = node->thread;
        if (t->seen_seq != node->wait.seq) {
            t->seen_seq = node->wait.seq; /* a new episode: its clock starts now */
            t->seen_ns = now_ns;
            continue;
        }
        if (now_ns - t->seen_ns >= threshold_ns && t->reported_seq != node->wait.seq &&
            !tl_deadlock_involves(t))
            chosen[n++] = i;
    }
    report_all(g, chosen, n, now_ns, 0);
    free(chosen);
}

static int is_lock_wait(int kind)
{
    return kind == TL_WAIT_MUTEX || kind == TL_WAIT_RWLOCK_READ || kind == TL_WAIT_RWLOCK_WRITE ||
           kind == TL_WAIT_SPIN || kind == TL_WAIT_C11_MUTEX;
}

void tl_blocked_at_exit(const struct tl_waitgraph *g, const struct tl_thread *exiting,
                        int64_t now_ns)
{
    int *chosen = malloc((size_t)(g->n ? g->n : 1) * sizeof *chosen);
    if (!chosen)
        return;
    int n = 0;
    for (int i = 0; i < g->n; i++) {
        struct tl_thread *t = g->nodes[i].thread;
        if (t == exiting || t->reported_seq == g->nodes[i].wait.seq || tl_deadlock_involves(t))
            continue;
        if (t->seen_seq != g->nodes[i].wait.seq) {
            /*
             * A lock wait no tick has seen yet is a handover caught by exit()
             * (the lock is passed around, its owner runs): not a blocked
             * thread. A new condvar or join wait at exit still says something.
             */
            if (is_lock_wait(g->nodes[i].wait.kind) && !g->nodes[i].nout)
                continue;
            t->seen_seq = g->nodes[i].wait.seq;
            t->seen_ns = now_ns;
        }
        chosen[n++] = i;
    }
    report_all(g, chosen, n, now_ns, 1);
    free(chosen);
}
