/*
 * model.h - the data behind threadlens-top's six views, read from the
 * database into plain structs. tl_model_load() reads the counters, threads,
 * locks and allocation sites in one short read transaction and the findings
 * with tl_load_run() (its own short transaction), so the agent's writer is
 * never held up for longer than one query batch. Stacks and lock edges are
 * only needed when a detail pane opens; tl_model_frames() and
 * tl_model_edges() read them then.
 *
 * A thread's state comes from its row (alive or ended) and from the findings:
 * a thread item of a `thread-leak` finding makes it leaked, one of an
 * unresolved `deadlock` or `blocked-thread` finding makes it blocked, and the
 * `waits`/`holds` lock items of those say on what and with which locks held.
 * A live thread's thread_state row (the agent's latest tick) says more
 * precisely what it blocks on now and which locks it holds, with the frames
 * where it blocks and took them; tl_model_state_text() prefers it and falls
 * back to the state above when there is no row or the thread ended or leaked.
 * A lock's wait times are those of its contended acquisitions (lock.wait_ns,
 * lock.wait_max_ns); uncontended acquisitions add nothing.
 *
 * Integer fields that may be SQL NULL hold TL_NULL (load.h). Everything
 * belongs to the struct tl_model and is freed by tl_model_free().
 * Single-threaded.
 */
#ifndef TL_MODEL_H
#define TL_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "load.h"
#include "vec.h"

#define TL_MODEL_HISTORY 40 /* samples kept per series, for sparklines and slopes */

/* The last values of one counter, oldest first. */
struct tl_series {
    double v[TL_MODEL_HISTORY]; /* values */
    double t[TL_MODEL_HISTORY]; /* their times, in seconds since the first kept one */
    size_t n;                   /* how many are set */
};

struct tl_mproc {
    int64_t id;          /* process.id */
    int64_t pid;         /* process.pid */
    char *exe;           /* may be NULL */
    int64_t start_ns;    /* or TL_NULL */
    int64_t end_ns;      /* TL_NULL while it runs */
    int64_t exit_status; /* or TL_NULL */
    char *end_reason;    /* "exit", "exec"; NULL while it runs */
    int64_t last_sample_ns; /* t_ns of its latest sample, or TL_NULL */
};

/* Counters of one process: its latest sample and the recent history. */
struct tl_overview {
    int64_t proc;            /* process.id the counters are of; TL_NULL: no sample yet */
    int64_t t_ns;            /* time of the latest sample */
    int64_t threads_live;    /* latest values, TL_NULL when the column is */
    int64_t threads_total;
    int64_t tasks_in_flight;
    int64_t heap_live;
    int64_t rss;
    double acq_rate;         /* acquisitions per second over the last two samples; <0 unknown */
    double cont_rate;        /* contentions per second, likewise */
    /*
     * The collector's own time (sample.tick_ns) over the kept samples: its
     * share of the time they span (<0 unknown) and the longest tick
     * (TL_NULL unknown).
     */
    double collector_share;
    int64_t collector_max_ns;
    int64_t agent_bytes;     /* the agent's own memory, latest (TL_NULL unknown) */
    struct tl_series threads, tasks, heap, rss_hist, acq, cont; /* acq/cont: per-second rates */
    struct tl_series ticks, agent_mem; /* tick_ns and agent_bytes of each sample */
};

enum tl_tstate {
    TL_TS_RUNNING,    /* alive, nothing known against it */
    TL_TS_EXITED,     /* ended */
    TL_TS_ALIVE_EXIT, /* no end recorded, but its process has ended */
    TL_TS_BLOCKED,    /* in an unresolved blocked-thread finding */
    TL_TS_LEAKED,     /* in a thread-leak finding */
    TL_TS_DEADLOCKED, /* in an unresolved deadlock finding */
};

/* One lock a thread holds now (thread_state.held). */
struct tl_mheld {
    int64_t lock;   /* lock.id */
    int64_t stack;  /* one-frame stack.id where it was taken, or TL_NULL */
    char *label;    /* as struct tl_mlock's label; never NULL */
    char *kind;     /* lock.kind, or NULL */
    char *function; /* function of the stack's frame, or NULL */
};

struct tl_mthread {
    int64_t proc, pid;     /* process.id and its pid */
    int64_t id;            /* thread.id within the process */
    int64_t tid;           /* kernel tid, or TL_NULL */
    char *name;            /* NULL when unnamed */
    int64_t creator;       /* thread.id of the creator, or TL_NULL */
    int64_t create_stack;  /* stack.id, or TL_NULL */
    int64_t start_ns;      /* or TL_NULL */
    int64_t end_ns;        /* TL_NULL while alive */
    char *end_how;         /* "return", "exit", "cancel"; NULL */
    enum tl_tstate state;  /* see the header comment */
    char *waits;           /* "mutex lock_b", "join T3", "cond"; NULL when not blocked */
    char *holds;           /* "mutex lock_a, ..." as the findings say; NULL when unknown */
    const struct tl_stack *blocked; /* where it blocks, from a finding (in run), or NULL */
    /* From its thread_state row, when has_state (else the fields are unset): */
    bool has_state;        /* a thread_state row exists */
    char *wait_kind;       /* "mutex", "join", ...; NULL while running */
    int64_t wait_lock;     /* lock.id for a lock wait, or TL_NULL */
    char *wait_label;      /* that lock's label; NULL without wait_lock */
    int64_t wait_since_ns; /* or TL_NULL */
    int64_t wait_stack;    /* one-frame stack.id of the call site, or TL_NULL */
    char *wait_function;   /* function of that frame, or NULL */
    struct tl_vec held;    /* struct tl_mheld, innermost last (initialised even without a row) */
};

struct tl_mlock {
    int64_t proc, pid;    /* process.id and its pid */
    int64_t id;           /* lock.id within the process */
    int64_t addr;         /* or TL_NULL */
    char *kind;           /* "mutex", "rwlock", ...; may be NULL */
    char *name;           /* global symbol, NULL when unknown */
    char *label;          /* name, else the address in hex, else "#id"; never NULL */
    int64_t first_stack;  /* stack.id, or TL_NULL */
    int64_t first_thread; /* thread.id, or TL_NULL */
    char *first_function; /* innermost named frame of first_stack; NULL */
    int64_t acquisitions; /* 0 when NULL */
    int64_t contentions;  /* 0 when NULL */
    int64_t wait_ns;      /* total ns its contended acquisitions waited; 0 when NULL */
    int64_t wait_max_ns;  /* longest single wait in ns; 0 when NULL */
    int64_t edges;        /* lock_edge rows that start or end at it */
};

struct tl_msite {
    int64_t proc, pid;      /* process.id and its pid */
    int64_t id;             /* alloc_site.id */
    int64_t stack;          /* stack.id, or TL_NULL */
    char *function;         /* may be NULL */
    int64_t live_bytes;     /* latest estimate, 0 when never sampled */
    int64_t live_count;
    double growth;          /* bytes per second: least-squares slope of the history */
    struct tl_series hist;  /* live_bytes of its last site_sample rows */
};

/* One lock_edge row touching a lock, for the Locks detail pane. */
struct tl_medge {
    int64_t id;            /* lock_edge.id */
    char *from, *to;       /* lock labels as in struct tl_mlock */
    int64_t thread;        /* first thread that took it, or TL_NULL */
    int64_t threads;       /* 1, or 2 for "two or more"; TL_NULL */
    char *modes;           /* may be NULL */
    int64_t held_stack;    /* stack.id or TL_NULL */
    int64_t acquire_stack; /* stack.id or TL_NULL */
};

struct tl_model {
    int64_t loaded_ns;       /* CLOCK_REALTIME when it was read */
    struct tl_vec procs;     /* struct tl_mproc, by id */
    struct tl_overview ov;   /* of the first running process, else the first one */
    struct tl_vec threads;   /* struct tl_mthread, by process then id */
    struct tl_vec locks;     /* struct tl_mlock, by process then id */
    struct tl_vec sites;     /* struct tl_msite, by process then id */
    struct tl_run run;       /* findings as tl_load_run() orders them */
    struct tl_vec newest;    /* size_t: indexes into run.findings, newest first */
};

int tl_model_load(struct tl_db *db, struct tl_model *m);
void tl_model_free(struct tl_model *m);
const struct tl_mproc *tl_model_proc(const struct tl_model *m, int64_t id);
const struct tl_finding *tl_model_newest(const struct tl_model *m, size_t i);
const char *tl_model_state_name(enum tl_tstate s);
void tl_model_state_text(char *buf, size_t len, const struct tl_model *m,
                         const struct tl_mthread *t, int64_t now_ns);
void tl_model_held_text(char *buf, size_t len, const struct tl_mthread *t);
int tl_model_frames(struct tl_db *db, int64_t stack, struct tl_vec *frames);
void tl_model_frames_free(struct tl_vec *frames);
int tl_model_edges(struct tl_db *db, int64_t proc, int64_t lock, struct tl_vec *edges);
void tl_model_edges_free(struct tl_vec *edges);
double tl_model_slope(const struct tl_series *s);
char *tl_model_chain(const struct tl_finding *f);

#endif
