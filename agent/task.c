/*
 * task.c - the task API (threadlens.h): task records, their per-thread free
 * lists and counters, the collector's writer, and the task-leak check at
 * exit (see task.h).
 *
 * Divisions: records and handles; the pool and per-thread caches; the API
 * entry points; collector side (write, recycle, counts); exit and fork.
 */
#include "task.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "clock.h"
#include "errors.h"
#include "export.h"
#include "finding.h"
#include "log.h"
#include "spin.h"
#include "stack.h"
#include "store.h"
#include "thread.h"

#define THREADLENS_AGENT_BUILD /* our definitions of the *_impl entry points are not weak */
#include "threadlens.h"

#define SLAB_RECORDS 256 /* records carved from the arena at once (48 KiB) */
#define MAX_SLABS 512    /* 128K records (24 MiB): tasks queued, running or not yet written */
#define BATCH 32         /* records a thread takes from the pool at once */
#define ID_BLOCK 64      /* task ids a thread takes from the global counter at once */
#define SITE_CACHE 64    /* per-thread submit pc -> stack cache; power of two */
#define NAME_SIZE 32     /* a name keeps at most 31 bytes */
#define MAX_THREADS_LISTED 8 /* threads itemised per task-leak finding */
#define SNAPSHOT_TRIES 8

/* ---- records and handles ------------------------------------------------------------- */

/* A record's state: the low two bits of its word. */
enum { ST_FREE, ST_QUEUED, ST_RUNNING, ST_ENDED };

/*
 * word = generation << 32 | change sequence << 8 | W_BUSY | state. The
 * generation names one use of the record (it is in the handle); the sequence
 * moves on every change, so a reader that sees the same word before and after
 * copying the fields has a consistent copy; W_BUSY is held while a call
 * changes the fields.
 */
#define W_STATE 0x3ull
#define W_BUSY 0x4ull
#define W_SEQ_ONE 0x100ull
#define W_SEQ_MASK 0xffffff00ull

struct tl_task {
    struct tl_pub pub;           /* collector queue link; never touched on reuse */
    _Atomic uint64_t word;       /* see above: the record's lock and state */
    uint32_t slot;               /* handle's low half - 1; immutable */
    uint32_t batch_len;          /* pool only: records in the batch this one heads */
    struct tl_task *next_free;   /* free chain: a thread's list or a pool batch */
    struct tl_task *next_batch;  /* pool only: next batch, on batch heads */
    /* Written with W_BUSY held (or by the thread that took the free record): */
    uint64_t id;                 /* task.id, unique in the process */
    uintptr_t submit_pc;         /* return address of the submit call: the call site */
    struct tl_stack *submit_stack; /* the site's stack (captured once per site and thread) */
    int64_t queued_ns, started_ns, ended_ns; /* 0 = not yet */
    uint32_t submit_thread, run_thread;      /* thread ids, 0 = none */
    char name[NAME_SIZE];        /* "" = unnamed */
} __attribute__((aligned(64)));  /* one line per record: no false sharing between tasks */

/* A consistent copy of a record's fields (see snapshot()). */
struct snap {
    uint64_t word, id;
    uintptr_t submit_pc;
    struct tl_stack *submit_stack;
    int64_t queued_ns, started_ns, ended_ns;
    uint32_t submit_thread, run_thread;
    char name[NAME_SIZE];
};

/*
 * Slab i holds slots [i * SLAB_RECORDS, (i + 1) * SLAB_RECORDS). An entry is
 * set once, after its records are initialised; NULL until then (or for good,
 * when the arena failed).
 */
static struct tl_task *_Atomic slabs[MAX_SLABS];
static atomic_uint nslabs; /* entries of slabs[] reserved so far (fetch-add) */

static inline uint32_t w_gen(uint64_t w)
{
    return (uint32_t)(w >> 32);
}

static inline unsigned w_state(uint64_t w)
{
    return (unsigned)(w & W_STATE);
}

/* Same generation, next sequence, not busy, in `state`. */
static inline uint64_t w_next(uint64_t w, unsigned state)
{
    return (w & ~0xffffffffull) | ((w + W_SEQ_ONE) & W_SEQ_MASK) | state;
}

static inline threadlens_task handle_of(const struct tl_task *r, uint64_t w)
{
    return (uint64_t)w_gen(w) << 32 | (uint64_t)(r->slot + 1);
}

/*
 * The record a handle names, and the handle's generation in *gen. NULL when
 * the slot does not exist (0, or a bogus handle); a stale handle gets its
 * old record, which the caller tells by the generation. Never dereferences
 * anything outside the slab table.
 */
static struct tl_task *record_of(threadlens_task h, uint32_t *gen)
{
    uint32_t slot = (uint32_t)h - 1;
    if ((uint32_t)h == 0 || slot / SLAB_RECORDS >= MAX_SLABS)
        return NULL;
    struct tl_task *slab = atomic_load_explicit(&slabs[slot / SLAB_RECORDS], memory_order_acquire);
    if (!slab)
        return NULL;
    *gen = (uint32_t)(h >> 32);
    return &slab[slot % SLAB_RECORDS];
}

/*
 * Copies the record's fields into *s, seqlock style. Returns 1 with a
 * consistent copy, 0 when a call holds the record or changed it meanwhile
 * (that call publishes the record again when it is done).
 */
static int snapshot(struct tl_task *r, struct snap *s)
{
    uint64_t w = atomic_load_explicit(&r->word, memory_order_acquire);
    if (w & W_BUSY)
        return 0;
    s->id = r->id;
    s->submit_pc = r->submit_pc;
    s->submit_stack = r->submit_stack;
    s->queued_ns = r->queued_ns;
    s->started_ns = r->started_ns;
    s->ended_ns = r->ended_ns;
    s->submit_thread = r->submit_thread;
    s->run_thread = r->run_thread;
    memcpy(s->name, r->name, NAME_SIZE);
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&r->word, memory_order_relaxed) != w)
        return 0;
    s->word = w;
    s->name[NAME_SIZE - 1] = '\0';
    return 1;
}

/*
 * Takes the record of `h` for a change: when its generation matches and its
 * state is in `states` (a mask of 1 << state), sets W_BUSY and returns the
 * record, with *w its word before. NULL otherwise: the call is ignored.
 * Waits (yielding) only while another call holds the same record, which
 * takes two racing calls on one task.
 */
static struct tl_task *take(threadlens_task h, unsigned states, uint64_t *w)
{
    uint32_t gen;
    struct tl_task *r = record_of(h, &gen);
    if (!r)
        return NULL;
    uint64_t cur = atomic_load_explicit(&r->word, memory_order_relaxed);
    for (;;) {
        if (w_gen(cur) != gen || !(states & (1u << w_state(cur))))
            return NULL;
        if (cur & W_BUSY) {
            sched_yield();
            cur = atomic_load_explicit(&r->word, memory_order_relaxed);
            continue;
        }
        if (atomic_compare_exchange_weak_explicit(&r->word, &cur, cur | W_BUSY,
                                                  memory_order_acquire, memory_order_relaxed)) {
            *w = cur;
            return r;
        }
    }
}

/* Ends a change begun by take(): the record is in `state` now; the collector hears of it. */
static void give(struct tl_task *r, uint64_t w, unsigned state)
{
    atomic_store_explicit(&r->word, w_next(w, state), memory_order_release);
    tl_publish(&r->pub);
}

static void copy_name(char *dst, const char *name)
{
    size_t n = name ? strnlen(name, NAME_SIZE - 1) : 0;
    memcpy(dst, name ? name : "", n);
    dst[n] = '\0';
}

/* ---- the pool and the per-thread caches ---------------------------------------------- */

/*
 * One per thread that used the API. Never freed: when its thread exits (TSD
 * destructor) it becomes an orphan that the next new thread adopts, free
 * records, id block, site cache and counters included. Counters are
 * cumulative, so the sum over every cache is right whoever owns each.
 */
struct task_cache {
    struct task_cache *next_all;    /* every cache: push-only list, pushes under pool_lock */
    struct task_cache *next_orphan; /* orphan stack, under pool_lock */
    struct tl_task *free;           /* owner only: free records, chained by next_free */
    uint64_t next_id, id_end;       /* owner only: unused ids [next_id, id_end) */
    /* Written by the owner only (load + store, no RMW), summed by the collector. */
    _Atomic int64_t submitted, started, ended_running, ended_queued;
    _Atomic int64_t dropped;        /* submits not tracked: no record was left */
    struct {
        uintptr_t pc;               /* a submit call site */
        struct tl_stack *stack;     /* its stack when first seen on this thread */
    } sites[SITE_CACHE];            /* owner only; direct-mapped */
};

static __thread struct task_cache *my_cache __attribute__((tls_model("initial-exec")));

static struct tl_spin pool_lock = TL_SPIN_INIT; /* slow paths only: once per BATCH tasks */
static struct tl_task *pool;                    /* batches of free records, under pool_lock */
static struct task_cache *_Atomic caches;       /* every cache; pushes under pool_lock */
static struct task_cache *orphans;              /* caches of exited threads, under pool_lock */
static pthread_key_t cache_key;                 /* its destructor orphans a thread's cache */
static int cache_key_state;                     /* under pool_lock: 0 not yet, 1 ok, -1 failed */
static _Atomic uint64_t next_id_block = 1;      /* first id of the next block handed out */
static atomic_int exhausted_logged;
static struct tl_task *recycled;                /* collector_lock: a batch being filled */

/* Only the owning thread writes a counter: a relaxed load and store, no locked instruction. */
static inline void bump(_Atomic int64_t *counter)
{
    atomic_store_explicit(counter, atomic_load_explicit(counter, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

/* Pushes a free record onto the pool, into the head batch while it has room. pool_lock held. */
static void pool_push(struct tl_task *r)
{
    struct tl_task *head = pool;
    if (head && head->batch_len < BATCH) {
        r->next_free = head;
        r->batch_len = head->batch_len + 1;
        r->next_batch = head->next_batch;
    } else {
        r->next_free = NULL;
        r->batch_len = 1;
        r->next_batch = head;
    }
    pool = r;
}

/* TSD destructor: the thread exits; its cache waits for the next new thread. */
static void cache_orphan(void *arg)
{
    struct task_cache *c = arg;
    if (my_cache == c)
        my_cache = NULL;
    tl_spin_lock(&pool_lock);
    c->next_orphan = orphans;
    orphans = c;
    tl_spin_unlock(&pool_lock);
}

/* The calling thread's first call: adopts an orphan or makes a cache. NULL when out of memory. */
static struct task_cache *cache_new(void)
{
    tl_spin_lock(&pool_lock);
    if (cache_key_state == 0)
        cache_key_state = pthread_key_create(&cache_key, cache_orphan) == 0 ? 1 : -1;
    int key_ok = cache_key_state > 0;
    struct task_cache *c = orphans;
    if (c)
        orphans = c->next_orphan;
    tl_spin_unlock(&pool_lock);
    if (!c) {
        c = tl_arena_alloc_line(sizeof *c);
        if (!c)
            return NULL;
        tl_spin_lock(&pool_lock);
        c->next_all = atomic_load_explicit(&caches, memory_order_relaxed);
        atomic_store_explicit(&caches, c, memory_order_release);
        tl_spin_unlock(&pool_lock);
    }
    my_cache = c;
    if (key_ok)
        pthread_setspecific(cache_key, c); /* without a key, an exiting thread's cache is lost */
    return c;
}

static inline struct task_cache *cache_get(void)
{
    struct task_cache *c = my_cache;
    return __builtin_expect(c != NULL, 1) ? c : cache_new();
}

/*
 * Carves a new slab: its first BATCH records, chained, are returned to the
 * caller; the rest go to the pool. NULL when the slab table is full (the
 * collector is far behind, or that many tasks are open) or the arena is
 * exhausted. Initialises the records outside pool_lock: first touches of
 * fresh pages are slow.
 */
static struct tl_task *slab_new(void)
{
    if (atomic_load_explicit(&nslabs, memory_order_relaxed) >= MAX_SLABS)
        return NULL;
    unsigned n = atomic_fetch_add_explicit(&nslabs, 1, memory_order_relaxed);
    if (n >= MAX_SLABS) {
        atomic_store_explicit(&nslabs, MAX_SLABS, memory_order_relaxed); /* undo the overshoot */
        return NULL;
    }
    struct tl_task *slab = tl_arena_alloc_line(SLAB_RECORDS * sizeof *slab);
    if (!slab)
        return NULL; /* slabs[n] stays NULL: its slots name no record */
    for (unsigned i = 0; i < SLAB_RECORDS; i++) {
        slab[i].pub.type = TL_PUB_TASK;
        slab[i].slot = n * SLAB_RECORDS + i;
        atomic_store_explicit(&slab[i].word, (uint64_t)1 << 32 | ST_FREE, memory_order_relaxed);
        slab[i].next_free = i + 1 < BATCH ? &slab[i + 1] : NULL;
    }
    atomic_store_explicit(&slabs[n], slab, memory_order_release);
    tl_spin_lock(&pool_lock);
    for (unsigned i = BATCH; i < SLAB_RECORDS; i++)
        pool_push(&slab[i]);
    tl_spin_unlock(&pool_lock);
    return slab;
}

/* Refills an empty free list with a batch. Returns 0, or TL_ENOMEM when no record is left. */
static int refill(struct task_cache *c)
{
    tl_spin_lock(&pool_lock);
    struct tl_task *batch = pool;
    if (batch)
        pool = batch->next_batch;
    tl_spin_unlock(&pool_lock);
    if (!batch)
        batch = slab_new();
    if (!batch)
        return TL_ENOMEM;
    c->free = batch;
    return 0;
}

/*
 * The stack of a submit call site. Captured the first time this thread
 * submits from `pc` (unwinding costs microseconds; submits are hot), then
 * served from the thread's cache: later submits from the site share the
 * first one's stack even when reached through other callers.
 */
static struct tl_stack *site_stack(struct task_cache *c, uintptr_t pc)
{
    unsigned i = (unsigned)((pc >> 3) ^ (pc >> 12)) & (SITE_CACHE - 1);
    if (c->sites[i].pc == pc)
        return c->sites[i].stack;
    struct tl_stack *s = tl_stack_capture();
    if (s) {
        c->sites[i].pc = pc;
        c->sites[i].stack = s;
    }
    return s;
}

/* ---- API entry points (exported; see threadlens.h) ----------------------------------- */

static threadlens_task submit(struct tl_thread *self, uintptr_t pc, const char *name)
{
    struct task_cache *c = cache_get();
    if (!c)
        return 0;
    if (!c->free && refill(c) < 0) {
        bump(&c->dropped);
        if (!atomic_exchange(&exhausted_logged, 1))
            tl_log(TL_LOG_ERROR, "%d tasks open or not yet written: further tasks are not "
                   "recorded until the collector catches up", MAX_SLABS * SLAB_RECORDS);
        return 0;
    }
    struct tl_task *r = c->free;
    c->free = r->next_free;
    if (c->next_id == c->id_end) {
        c->next_id = atomic_fetch_add_explicit(&next_id_block, ID_BLOCK, memory_order_relaxed);
        c->id_end = c->next_id + ID_BLOCK;
    }
    /* A free record is ours alone: no handle names its generation yet. */
    r->id = c->next_id++;
    r->submit_pc = pc;
    r->submit_stack = site_stack(c, pc);
    r->queued_ns = tl_now_ns();
    r->started_ns = r->ended_ns = 0;
    r->submit_thread = self->id;
    r->run_thread = 0;
    copy_name(r->name, name);
    uint64_t w = atomic_load_explicit(&r->word, memory_order_relaxed);
    bump(&c->submitted);
    give(r, w, ST_QUEUED);
    return handle_of(r, w);
}

TL_EXPORT threadlens_task threadlens_task_submit_impl(const char *name)
{
    uintptr_t pc = (uintptr_t)__builtin_return_address(0); /* the inline wrapper's caller */
    struct tl_thread *self = tl_enter();
    if (!self)
        return 0;
    int saved_errno = errno;
    self->in_agent++;
    threadlens_task h = submit(self, pc, name);
    self->in_agent--;
    errno = saved_errno;
    return h;
}

TL_EXPORT void threadlens_task_start_impl(threadlens_task task)
{
    struct tl_thread *self = tl_enter();
    if (!self || !task)
        return;
    int saved_errno = errno;
    self->in_agent++;
    uint64_t w;
    struct tl_task *r = take(task, 1u << ST_QUEUED, &w);
    if (r) {
        r->started_ns = tl_now_ns();
        r->run_thread = self->id;
        struct task_cache *c = cache_get();
        if (c)
            bump(&c->started);
        give(r, w, ST_RUNNING);
    }
    self->in_agent--;
    errno = saved_errno;
}

TL_EXPORT void threadlens_task_end_impl(threadlens_task task)
{
    struct tl_thread *self = tl_enter();
    if (!self || !task)
        return;
    int saved_errno = errno;
    self->in_agent++;
    uint64_t w;
    struct tl_task *r = take(task, 1u << ST_QUEUED | 1u << ST_RUNNING, &w);
    if (r) {
        r->ended_ns = tl_now_ns();
        struct task_cache *c = cache_get();
        if (c)
            bump(w_state(w) == ST_RUNNING ? &c->ended_running : &c->ended_queued);
        give(r, w, ST_ENDED);
    }
    self->in_agent--;
    errno = saved_errno;
}

TL_EXPORT void threadlens_task_name_impl(threadlens_task task, const char *name)
{
    struct tl_thread *self = tl_enter();
    if (!self || !task)
        return;
    int saved_errno = errno;
    self->in_agent++;
    uint64_t w;
    struct tl_task *r = take(task, 1u << ST_QUEUED | 1u << ST_RUNNING, &w);
    if (r) {
        copy_name(r->name, name);
        give(r, w, w_state(w));
    }
    self->in_agent--;
    errno = saved_errno;
}

/* ---- collector side ------------------------------------------------------------------ */

/*
 * An ended record whose row is written goes back to the pool under a new
 * generation: into the collector's batch, which joins the pool (one
 * pool_lock) when full. A partial batch waits for the next recycled records.
 */
static void recycle(struct tl_task *r, uint64_t w)
{
    uint64_t fresh = (uint64_t)(w_gen(w) + 1) << 32 | ST_FREE;
    /* Nothing changes an ended record, so this cannot fail; if it did, leave the record be. */
    if (!atomic_compare_exchange_strong(&r->word, &w, fresh))
        return;
    r->next_free = recycled;
    r->batch_len = recycled ? recycled->batch_len + 1 : 1;
    recycled = r;
    if (r->batch_len < BATCH)
        return;
    tl_spin_lock(&pool_lock);
    r->next_batch = pool;
    pool = r;
    tl_spin_unlock(&pool_lock);
    recycled = NULL;
}

/*
 * Writes the task row of a published record, then recycles the record when
 * the row says the task ended. A record busy or changing now is skipped: the
 * call changing it publishes it again. So is a free record (queued twice:
 * already written and recycled).
 */
void tl_task_write(struct tl_pub *p)
{
    struct tl_task *r = tl_container_of(p, struct tl_task, pub);
    struct snap s;
    if (!snapshot(r, &s) || w_state(s.word) == ST_FREE)
        return;
    struct tl_task_row row = {.id = s.id, .name = s.name[0] ? s.name : NULL,
                              .queued_ns = s.queued_ns, .started_ns = s.started_ns,
                              .ended_ns = s.ended_ns, .submit_thread = s.submit_thread,
                              .run_thread = s.run_thread, .submit_stack = s.submit_stack};
    tl_store_task(&row);
    if (w_state(s.word) == ST_ENDED)
        recycle(r, s.word);
}

void tl_task_counts(int64_t *in_flight, int64_t *queued, int64_t *total)
{
    int64_t submitted = 0, started = 0, ended_running = 0, ended_queued = 0, dropped = 0;
    for (struct task_cache *c = atomic_load_explicit(&caches, memory_order_acquire); c;
         c = c->next_all) {
        submitted += atomic_load_explicit(&c->submitted, memory_order_relaxed);
        started += atomic_load_explicit(&c->started, memory_order_relaxed);
        ended_running += atomic_load_explicit(&c->ended_running, memory_order_relaxed);
        ended_queued += atomic_load_explicit(&c->ended_queued, memory_order_relaxed);
        dropped += atomic_load_explicit(&c->dropped, memory_order_relaxed);
    }
    /* Per-thread counters are read one after another: clamp a transient skew. */
    int64_t run = started - ended_running, wait = submitted - started - ended_queued;
    *in_flight = run > 0 ? run : 0;
    *queued = wait > 0 ? wait : 0;
    *total = submitted + dropped; /* untracked submits count, though never as open */
}

/* ---- exit: task-leak ----------------------------------------------------------------- */

static int by_site(const void *a, const void *b)
{
    const struct snap *x = a, *y = b;
    if (x->submit_pc != y->submit_pc)
        return x->submit_pc < y->submit_pc ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * Calls fn (unless NULL) on a consistent copy of every record queued or
 * running now. Returns how many there were.
 */
static size_t each_open(void (*fn)(const struct snap *, void *), void *arg)
{
    size_t n = 0;
    unsigned nsl = atomic_load_explicit(&nslabs, memory_order_relaxed);
    for (unsigned i = 0; i < nsl && i < MAX_SLABS; i++) {
        struct tl_task *slab = atomic_load_explicit(&slabs[i], memory_order_acquire);
        for (unsigned j = 0; slab && j < SLAB_RECORDS; j++) {
            struct snap s;
            int ok = 0;
            for (int tries = 0; !ok && tries < SNAPSHOT_TRIES; tries++)
                ok = snapshot(&slab[j], &s); /* busy: a thread is changing it right now */
            if (!ok)
                continue;
            unsigned st = w_state(s.word);
            if (st == ST_QUEUED || st == ST_RUNNING) {
                if (fn)
                    fn(&s, arg);
                n++;
            }
        }
    }
    return n;
}

struct open_list {
    struct snap *items;
    size_t n, cap;
};

static void collect_open(const struct snap *s, void *arg)
{
    struct open_list *l = arg;
    if (l->n < l->cap)
        l->items[l->n++] = *s;
}

/* One finding for the leaked tasks tasks[0..n) of one submit call site. */
static void report_site(const struct snap *tasks, size_t n)
{
    uint32_t threads[MAX_THREADS_LISTED];
    unsigned nthreads = 0;
    size_t started = 0;
    int same_name = 1;
    for (size_t i = 0; i < n; i++) {
        same_name &= strcmp(tasks[i].name, tasks[0].name) == 0;
        if (w_state(tasks[i].word) != ST_RUNNING)
            continue;
        started++;
        unsigned k = 0;
        while (k < nthreads && threads[k] != tasks[i].run_thread)
            k++;
        if (k == nthreads && nthreads < MAX_THREADS_LISTED && tasks[i].run_thread)
            threads[nthreads++] = tasks[i].run_thread;
    }
    struct tl_finding *f = tl_finding_new(TL_FINDING_TASK_LEAK, TL_SEVERITY_WARNING, 0,
                                          1 + nthreads);
    if (!f)
        return;
    unsigned k = 0;
    if (tasks[0].submit_stack)
        f->items[k++] = (struct tl_finding_item){.role = TL_ROLE_STACK,
                                                 .thread = tasks[0].submit_thread,
                                                 .stack = tasks[0].submit_stack,
                                                 .detail = "submitted"};
    for (unsigned i = 0; i < nthreads; i++)
        f->items[k++] = (struct tl_finding_item){.role = TL_ROLE_THREAD, .thread = threads[i],
                                                 .detail = "started"};
    f->nitems = k;
    char function[128], named[NAME_SIZE + 32] = "", summary[512];
    tl_store_stack_function(tasks[0].submit_stack, function, sizeof function);
    if (tasks[0].name[0])
        snprintf(named, sizeof named, " named \"%s\"%s", tasks[0].name,
                 same_name ? "" : " and others");
    snprintf(summary, sizeof summary,
             "%zu task%s%s from %s never ended (%zu started, %zu still queued)", n,
             n == 1 ? "" : "s", named, function, started, n - started);
    f->summary = tl_finding_text(summary);
    tl_publish(&f->pub);
}

void tl_task_leak_at_exit(void)
{
    size_t n = each_open(NULL, NULL);
    if (n == 0)
        return;
    /* The guard is set: this is the real malloc, not an allocation the agent counts. */
    struct open_list l = {.items = malloc(n * sizeof *l.items), .cap = n};
    if (!l.items)
        return;
    each_open(collect_open, &l); /* threads still run: fewer may be open now, never more kept */
    qsort(l.items, l.n, sizeof *l.items, by_site);
    for (size_t start = 0; start < l.n;) {
        size_t end = start + 1;
        while (end < l.n && l.items[end].submit_pc == l.items[start].submit_pc)
            end++;
        report_site(l.items + start, end - start);
        start = end;
    }
    free(l.items);
}

/* ---- fork ---------------------------------------------------------------------------- */

/*
 * The child has one thread and no collector yet (the publish queue is reset
 * too). Every record goes back to the pool under a new generation, so the
 * parent's handles are dead here; every counter restarts at zero; the other
 * threads' caches become orphans.
 */
void tl_task_after_fork_child(void)
{
    tl_spin_reset(&pool_lock);
    pool = NULL;
    recycled = NULL;
    orphans = NULL;
    struct task_cache *mine = my_cache;
    for (struct task_cache *c = atomic_load(&caches); c; c = c->next_all) {
        c->free = NULL;
        atomic_store(&c->submitted, 0);
        atomic_store(&c->started, 0);
        atomic_store(&c->ended_running, 0);
        atomic_store(&c->ended_queued, 0);
        atomic_store(&c->dropped, 0);
        if (c != mine) {
            c->next_orphan = orphans;
            orphans = c;
        }
    }
    unsigned nsl = atomic_load(&nslabs);
    for (unsigned i = 0; i < nsl && i < MAX_SLABS; i++) {
        struct tl_task *slab = atomic_load(&slabs[i]);
        for (unsigned j = 0; slab && j < SLAB_RECORDS; j++) {
            struct tl_task *r = &slab[j];
            uint64_t w = atomic_load(&r->word);
            atomic_store(&r->word, (uint64_t)(w_gen(w) + 1) << 32 | ST_FREE);
            r->pub.next = NULL;
            atomic_store(&r->pub.queued, 0);
            pool_push(r);
        }
    }
    atomic_store(&exhausted_logged, 0);
}
