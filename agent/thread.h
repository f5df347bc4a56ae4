/*
 * thread.h - the per-thread record. Created on a thread's first event (or by
 * the pthread_create trampoline) from the arena, never the wrapped malloc,
 * and reached through one initial-exec TLS pointer, tl_self.
 *
 * Ownership: only the thread itself writes `held`, `nheld`, the edge cache
 * and its counters; the collector reads the rest after a tl_publish(). The
 * registry of all records is a list: threads push under registry_lock; only
 * the collector unlinks, recycling the records of threads that are gone
 * (tl_thread_recycle), so the agent's memory follows the live threads, not
 * every thread the program ever made.
 *
 * `in_agent` is the recursion guard (lockdep_recursion): while set, every
 * interposer calls straight through to the real function. The collector
 * thread runs with it set for life.
 */
#ifndef TL_THREAD_H
#define TL_THREAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "publish.h"
#include "stack.h"

#define TL_MAX_HELD 32
#define TL_ECACHE_SIZE 64 /* power of two */
#define TL_LCACHE_SIZE 16 /* power of two */

enum tl_mode { TL_MODE_READ = 0, TL_MODE_WRITE = 1 };

enum tl_end_how { TL_END_NONE, TL_END_RETURN, TL_END_EXIT, TL_END_CANCEL };

struct tl_lock;
struct tl_edge;
struct tl_stack_cache;

struct tl_held {
    struct tl_lock *lock;      /* the record when it was taken */
    uintptr_t addr;            /* the lock object */
    struct tl_caller caller;   /* where it was taken */
    uint32_t recursion;        /* extra holds of a recursive mutex */
    uint8_t mode;              /* enum tl_mode */
    uint8_t trylock;           /* taken by a successful trylock */
};

struct tl_lcache_entry {
    uintptr_t addr;            /* the lock object the entry was filled for; 0 = empty */
    struct tl_lock *lock;      /* its record; a hit only while its live_addr matches (lockops.h) */
};

struct tl_ecache_entry {
    uint64_t key;              /* from id << 32 | to id */
    struct tl_edge *edge;
    /*
     * TL_MODE_BIT set of mode pairs in which this thread has nothing left to
     * learn from the edge (detect_lock_order.c): a hit needs no other look.
     */
    uint32_t steady;
};

/* The thread's current wait (wait.h). Written by the thread, read by the collector. */
struct tl_wait_record {
    atomic_uint seq;               /* odd while waiting */
    _Atomic uintptr_t what;        /* object address << 4 | enum tl_wait_kind */
    _Atomic uintptr_t pc;          /* blocking call site */
    atomic_uint stack_req;         /* episode whose stack the collector asked for */
    atomic_uint stack_seq;         /* episode whose stack frames[] holds */
    int nframes;
    struct tl_frame frames[TL_STACK_MAX]; /* written by the signal handler */
};

struct tl_thread {
    struct tl_pub pub;             /* collector queue link */
    struct tl_thread *next;        /* registry list, immutable once pushed */
    uint32_t id;                   /* 1 = main, then in order of first sight */
    pid_t tid;                     /* kernel tid */
    int in_agent;                  /* recursion guard */
    int nheld;                     /* entries in held[] */
    uint32_t untracked;            /* holds beyond TL_MAX_HELD, not in held[] */
    struct tl_held held[TL_MAX_HELD];
    struct tl_ecache_entry ecache[TL_ECACHE_SIZE];
    struct tl_lcache_entry lcache[TL_LCACHE_SIZE];
    _Atomic uint64_t acquisitions; /* written by the owner only, read by the collector */
    _Atomic uint64_t contentions;  /* idem */
    uint32_t creator;              /* creating thread's id, 0 when unknown */
    struct tl_stack *create_stack; /* where pthread_create was called */
    int64_t start_ns;
    _Atomic int64_t end_ns;        /* 0 while alive */
    atomic_int end_how;            /* enum tl_end_how */
    atomic_int alive;              /* 1 until the thread's TSD destructor ran */
    char name[16];                 /* pthread_setname_np, under registry_lock */
    uintptr_t handle;              /* pthread_self() */
    _Atomic uint32_t joined_by;    /* id of the thread that joined it, 0 = none */
    _Atomic uint32_t detached_by;  /* id of the detaching thread (the creator for a
                                      thread created detached); 0 = joinable */
    unsigned written_events;       /* collector only: thread_event rows already written */
    struct tl_wait_record wait;    /* what it blocks on now */
    /* Heap counters (heap.h): written by the owner with plain stores, summed by the collector. */
    _Atomic uint64_t heap_alloc_bytes, heap_free_bytes, heap_alloc_count, heap_free_count;
    uint64_t heap_sample_at;       /* heap_alloc_bytes at which the next allocation is sampled */
    uint64_t heap_rng;             /* xorshift state for the sampling intervals */
    unsigned seen_seq;             /* collector only: wait episode seen at seen_ns */
    int64_t seen_ns;               /* collector only: first tick that saw it */
    unsigned reported_seq;         /* collector only: episode reported as blocked */
    uint64_t written_state;        /* collector only: hash of the last thread_state row */
    /* Unwinds for new lock-order edges, kept for reuse once it makes many; kept when reused. */
    struct tl_stack_cache *stack_cache;
    uint32_t new_fact_unwinds;     /* unwinds for new lock-order edges so far */
};

/* The thread's edge-cache entry for the edge key (from id << 32 | to id). */
static inline struct tl_ecache_entry *tl_ecache_slot(struct tl_thread *self, uint64_t key)
{
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    return &self->ecache[(h >> 40) & (TL_ECACHE_SIZE - 1)];
}

extern __thread struct tl_thread *tl_self __attribute__((tls_model("initial-exec")));
extern atomic_int tl_active; /* 1 once the agent is initialised and recording */

struct tl_thread *tl_thread_self_slow(void);

/*
 * tl_enter() for a hot path that must make no call of its own: NULL also
 * when the thread has no record yet, and the caller then takes its slow path
 * (which calls tl_enter()).
 */
static inline struct tl_thread *tl_enter_registered(void)
{
    struct tl_thread *t = tl_self;
    if (__builtin_expect(t != NULL && !t->in_agent, 1) &&
        atomic_load_explicit(&tl_active, memory_order_relaxed))
        return t;
    return NULL;
}

/*
 * The interposer's entry check: returns the calling thread's record, or NULL
 * when the call must go straight to the real function (agent inactive, or
 * agent code on this thread already).
 */
static inline struct tl_thread *tl_enter(void)
{
    if (__builtin_expect(tl_self != NULL, 1))
        return tl_enter_registered();
    return tl_thread_self_slow();
}

/* Counters of a thread record, as summed by the collector. */
struct tl_thread_counters {
    uint64_t acquisitions, contentions;
    uint64_t heap_alloc_bytes, heap_free_bytes, heap_alloc_count, heap_free_count;
};

/*
 * Collector only, under collector_lock, after each pass's writes: unlinks the
 * records of threads that are gone and whose rows are written, for new
 * threads to reuse. Their counters move to tl_thread_retired_counters(),
 * which the sums of the live records must add.
 */
void tl_thread_recycle(void);
const struct tl_thread_counters *tl_thread_retired_counters(void);

int tl_thread_init(void);
/*
 * Creates and registers the calling thread's record. `precounted`: the
 * creator already counted it live (tl_thread_expect). NULL when out of memory.
 */
struct tl_thread *tl_thread_register(uint32_t creator, struct tl_stack *create_stack,
                                     int precounted);
/*
 * A thread is about to be created: count it live now, so that the process is
 * not taken for finished (every thread exited) before the new one has run.
 * tl_thread_unexpect() undoes it when creation fails.
 */
void tl_thread_expect(void);
void tl_thread_unexpect(void);
/* Marks the calling thread's record finished (from its TSD destructor). */
void tl_thread_finished(struct tl_thread *t);
/* Thread `by` detached `handle` (possibly before that thread registered). */
void tl_thread_note_detached(pthread_t handle, uint32_t by);
/* The record of the thread with this pthread_t, or NULL. */
struct tl_thread *tl_thread_by_handle(pthread_t handle);
/* `t`'s thread was joined by thread `by`: records it and queues the row. */
void tl_thread_note_joined(struct tl_thread *t, uint32_t by);
void tl_thread_set_name(struct tl_thread *t, const char *name);
/* Names `t`, the calling thread's record, as the kernel does (PR_GET_NAME). */
void tl_thread_name_from_kernel(struct tl_thread *t);
void tl_thread_copy_name(struct tl_thread *t, char out[16]);
struct tl_thread *tl_thread_first(void);
uint32_t tl_thread_live_count(void);
uint32_t tl_thread_total_count(void);
/* Fork child: only the forking thread survives; it becomes thread 1 of a fresh registry. */
void tl_thread_after_fork_child(void);
/* Whether `t` is the agent's own (collector) record. */
int tl_thread_is_agent(const struct tl_thread *t);
/* Marks the collector thread: guard set for life, never registered. */
void tl_thread_enter_agent_for_life(void);
/* Called when the live count drops to zero (every application thread has exited). */
void tl_thread_set_all_exited_hook(void (*fn)(void));

/* fork: hold the table lock across fork so the child inherits a consistent table. */
void tl_thread_fork_prepare(void);
void tl_thread_fork_parent(void);

#endif
