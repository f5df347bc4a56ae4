/*
 * load.h - typed loaders: read a whole run (processes, and every finding with
 * its threads, locks, edges and stacks resolved from finding_item rows, as
 * the README's schema section relates them) into plain structs, in one read transaction.
 * Each finding also keeps its raw items, so writers that group evidence by
 * thread (deadlock, blocked-thread, thread-leak) see the order the agent wrote.
 * The report and JSON writers only read these structs, never the database.
 *
 * Integer fields that may be SQL NULL hold TL_NULL. Strings are malloc'ed and
 * may be NULL where the column is. Everything belongs to the struct tl_run and
 * is freed by tl_load_free(). Single-threaded.
 */
#ifndef TL_LOAD_H
#define TL_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "vec.h"

#define TL_NULL INT64_MIN /* an SQL NULL in an integer field */

struct tl_frame {
    char *function; /* symbol name, NULL when unknown */
    char *module;   /* absolute path of the module, NULL when unknown */
    int64_t offset; /* offset in the module, or TL_NULL */
};

struct tl_stack {
    char *role;          /* "held", "acquired", "site", "created", ... */
    int64_t thread;      /* thread.id whose stack it is, or TL_NULL */
    int64_t lock;        /* lock.id it is about, or TL_NULL */
    int64_t edge;        /* index into the finding's edges, or TL_NULL */
    struct tl_vec frames; /* struct tl_frame, in frame.idx order */
};

struct tl_fthread {
    int64_t id;   /* thread.id, per process: main is 1 */
    int64_t tid;  /* kernel tid, or TL_NULL when the row is missing */
    char *name;   /* thread name, NULL when unnamed */
    char *detail; /* detail of its first own `thread` item ("zombie", "mutex"), or NULL */
};

struct tl_flock {
    int64_t id;   /* lock.id, per process */
    int64_t addr; /* address, or TL_NULL */
    char *kind;   /* "mutex", "rwlock", "spinlock", "c11-mutex"; NULL if unknown */
    char *name;   /* global variable name, NULL when not known */
    int64_t wait_ns;     /* total ns contended acquisitions waited (0 when NULL); TL_NULL: no row */
    int64_t wait_max_ns; /* longest single wait, likewise */
};

struct tl_fedge {
    int64_t id;        /* lock_edge.id */
    int64_t from;      /* lock.id held */
    int64_t to;        /* lock.id acquired while `from` was held */
    int64_t thread;    /* thread that took it (the item's, else the edge's) */
    int64_t threads;   /* distinct threads that took it, or TL_NULL */
    int64_t gate_lock; /* lock.id held across every acquisition, or TL_NULL */
    char *modes;       /* "W->W" etc., comma-separated; may be NULL */
};

/* One finding_item row as stored, with its edge and stack turned into indexes. */
struct tl_fitem {
    char *role;     /* "edge", "thread", "lock", "stack", ... */
    int64_t thread; /* thread.id as stored, or TL_NULL */
    int64_t lock;   /* lock.id as stored, or TL_NULL */
    int64_t edge;   /* index into the finding's edges, or TL_NULL (none, or row missing) */
    int64_t stack;  /* index into the finding's stacks, or TL_NULL (none) */
    char *detail;   /* "waits", "holds", "blocked", "zombie", ...; may be NULL */
};

struct tl_finding {
    int64_t id;           /* finding.id */
    int64_t proc;         /* process.id (not the pid) */
    int64_t pid;          /* process.pid, or TL_NULL when the row is missing */
    char *kind;           /* a TL_KIND_* string */
    char *severity;       /* TL_SEV_ERROR, TL_SEV_WARNING or TL_SEV_INFO */
    char *summary;        /* one line */
    int64_t t_ns;         /* when it was found, or TL_NULL */
    int64_t resolved_ns;  /* when it stopped being true, TL_NULL while it holds */
    int suppressed;       /* the agent's or the viewer's suppressions matched it */
    struct tl_vec threads; /* struct tl_fthread, in first-reference order */
    struct tl_vec locks;   /* struct tl_flock, in first-reference order */
    struct tl_vec edges;   /* struct tl_fedge, in item (cycle) order */
    struct tl_vec stacks;  /* struct tl_stack, in item order */
    struct tl_vec items;   /* struct tl_fitem, in seq order */
};

struct tl_process {
    int64_t pid;         /* process.pid */
    int64_t ppid;        /* or TL_NULL */
    int64_t end_ns;      /* TL_NULL while the process runs */
    int64_t exit_status; /* or TL_NULL */
    char *exe;           /* may be NULL */
    char *end_reason;    /* "exit", ...; may be NULL */
    int64_t start_ns;    /* or TL_NULL */
    int64_t attach_ns;   /* threadlens attach began recording; TL_NULL: from the start */
    /*
     * What the agent cost in it, from its samples: how many, the collector's
     * time (their tick_ns summed; both 0 before a sample), its longest tick
     * and the agent's largest memory (agent_bytes; both TL_NULL until known).
     */
    int64_t samples;
    int64_t collector_ns;
    int64_t collector_max_ns;
    int64_t agent_max_bytes;
};

struct tl_run {
    struct tl_vec processes; /* struct tl_process, by process.id */
    struct tl_vec findings;  /* struct tl_finding: errors, warnings, info, then id */
    size_t n_error;          /* findings of severity error */
    size_t n_warning;        /* ... warning */
    size_t n_info;           /* ... info */
    size_t n_suppressed;     /* findings suppressed (counted in none of the above) */
};

struct tl_suppressions;

int tl_load_run(struct tl_db *db, struct tl_run *run);
/*
 * Marks the findings `supp` matches (NULL: only those the agent marked),
 * drops every suppressed finding unless `keep`, and recounts: suppressed
 * findings count in n_suppressed only, so they never fail a CI gate.
 */
void tl_load_suppress(struct tl_run *run, const struct tl_suppressions *supp, int keep);
void tl_load_free(struct tl_run *run);
const struct tl_fthread *tl_load_thread(const struct tl_finding *f, int64_t id);
const struct tl_flock *tl_load_lock(const struct tl_finding *f, int64_t id);

#endif
