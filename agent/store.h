/*
 * store.h - the agent's SQLite database: opens it (WAL), creates the schema,
 * holds every prepared statement, and turns agent records into rows. Only
 * the collector calls it (or the exit flush, with the collector stopped from
 * writing by collector_lock), inside tl_store_begin()/tl_store_commit().
 * Functions return 0 or a negative TL_E*; on an I/O error the caller stops
 * recording and says so in one line, with tl_store_error() (store.c itself
 * prints nothing).
 */
#ifndef TL_STORE_H
#define TL_STORE_H

#include <stdint.h>

#include "finding.h"
#include "lockgraph.h"
#include "lockmap.h"
#include "thread.h"

struct tl_process_info {
    int pid, ppid;
    const char *exe;
    const char *cmdline;
    int64_t start_ns;
    int64_t attach_ns;    /* when a late attach began recording; 0 for a preloaded run */
};

struct tl_sample {
    int64_t t_ns;
    uint32_t threads_live, threads_total, locks, edges;
    uint64_t acquisitions, contentions;
    int64_t tick_ns;      /* how long the previous tick took */
    int64_t heap_live_bytes, heap_live_count;        /* from the malloc counters */
    uint64_t heap_alloc_bytes, heap_free_bytes, heap_alloc_count, heap_free_count;
    int64_t rss_bytes, fds, ctx_voluntary, ctx_involuntary, os_threads; /* /proc/self; -1 unknown */
    int64_t tasks_in_flight, tasks_queued, tasks_total;
    int64_t agent_bytes; /* the agent's own mappings, resident (tl_region_resident); -1 unknown */
    int64_t collector_ns; /* not a column: tick_ns summed over the samples so far */
};

/* One task's life (task API), written when it changes. Times 0 = not yet. */
struct tl_task_row {
    uint64_t id;
    const char *name;           /* NULL when unnamed */
    int64_t queued_ns, started_ns, ended_ns;
    uint32_t submit_thread, run_thread;
    struct tl_stack *submit_stack;
};

/* An allocation site: the sampled allocations' stack. */
struct tl_site_row {
    uint32_t id;
    struct tl_stack *stack;
    int64_t first_ns;
};

/* Opens (creates) the database and inserts the process row; info NULL reopens the last row. */
int tl_store_open(const char *path, const struct tl_process_info *info);
/*
 * Fork child: forgets the parent's connection without closing it (closing
 * would checkpoint and touch the parent's WAL).
 */
void tl_store_abandon(void);
void tl_store_close(void);
int tl_store_is_open(void);
const char *tl_store_path(void);
/* What failed last ("cannot open: unable to open database file"). Can't fail. */
const char *tl_store_error(void);

int tl_store_begin(void);
int tl_store_commit(void);
int tl_store_thread(struct tl_thread *t);
int tl_store_lock(const struct tl_lock *l);
/* "mutex lock_a", or "mutex 0x55..." for a lock without a symbol. Can't fail. */
void tl_store_lock_label(const struct tl_lock *l, char *buf, size_t size);
/* Updates the lock row's counters when they moved since the last write. */
int tl_store_lock_counts(struct tl_lock *l);
int tl_store_edge(const struct tl_edge *e);
/* Inserts the finding with its items, or updates its severity when it changed. */
int tl_store_finding(struct tl_finding *f);
int tl_store_sample(const struct tl_sample *s);
int tl_store_task(const struct tl_task_row *t);
/* The stack row of a one-frame stack at `pc`, written if new. 0 on failure. */
int64_t tl_store_pc_stack(uintptr_t pc);
/*
 * The thread's state as of this tick: what it waits on (kind NULL when it
 * does not), since when, and the locks it holds as "lock@stack,..." (lock
 * ids; stacks of one frame, where each was taken).
 */
int tl_store_thread_state(const struct tl_thread *t, int64_t t_ns, const char *wait_kind,
                          uintptr_t wait_object, const struct tl_lock *wait_lock,
                          int64_t wait_since_ns, struct tl_stack *wait_stack, const char *held);
/* Inserts the site row (first call for a site) and returns 0; function named from its stack. */
int tl_store_site(const struct tl_site_row *site);
int tl_store_site_sample(uint32_t site, int64_t t_ns, int64_t live_bytes, int64_t live_count,
                         int64_t alloc_bytes);
/* The function of the first frame of `stack` ("??" when unknown), for summaries. Can't fail. */
void tl_store_stack_function(struct tl_stack *stack, char *buf, size_t size);
/* status < 0: unknown. */
int tl_store_process_end(int64_t end_ns, int status, const char *reason);

#endif
