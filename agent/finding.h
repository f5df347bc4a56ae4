/*
 * finding.h - findings as the detectors make them: a kind, a severity and the
 * items that prove it (edges, threads, locks, stacks). Built by the detecting
 * thread in the arena, then handed to the collector with tl_publish(); the
 * collector composes the summary (it owns symbolization) unless a
 * collector-side detector wrote one, and writes the rows. Only `severity`
 * (lock-order evidence grows) and `resolved_ns` change after publication.
 */
#ifndef TL_FINDING_H
#define TL_FINDING_H

#include <stdatomic.h>
#include <stdint.h>

#include "publish.h"

struct tl_lock;
struct tl_edge;
struct tl_stack;

enum tl_finding_kind {
    TL_FINDING_LOCK_ORDER,
    TL_FINDING_LOCK_MISUSE,
    TL_FINDING_DEADLOCK,
    TL_FINDING_BLOCKED,
    TL_FINDING_THREAD_LEAK,
    TL_FINDING_MEMORY_LEAK,
    TL_FINDING_MEMORY_GROWTH,
    TL_FINDING_THREAD_GROWTH,
    TL_FINDING_TASK_LEAK,
    TL_FINDING_TASK_GROWTH,
    TL_FINDING_LIMIT,
};
enum tl_severity { TL_SEVERITY_INFO, TL_SEVERITY_WARNING, TL_SEVERITY_ERROR };
enum tl_role { TL_ROLE_EDGE, TL_ROLE_THREAD, TL_ROLE_LOCK, TL_ROLE_STACK };
enum tl_misuse {
    TL_MISUSE_UNLOCK_NOT_HELD,
    TL_MISUSE_DESTROY_HELD,
    TL_MISUSE_RELOCK,
    TL_MISUSE_EXIT_HOLDING,
};

struct tl_finding_item {
    uint8_t role;            /* enum tl_role */
    uint32_t thread;         /* thread id, 0 = none */
    struct tl_lock *lock;
    struct tl_edge *edge;
    struct tl_stack *stack;
    const char *detail;      /* static string: the stack's role ("site", "acquired", ...) */
};

struct tl_finding {
    struct tl_pub pub;              /* collector queue link */
    struct tl_finding *next_open;   /* collector's list of findings to re-evaluate */
    uint8_t kind;                   /* enum tl_finding_kind */
    uint8_t misuse;                 /* enum tl_misuse, for lock-misuse */
    atomic_int severity;            /* enum tl_severity */
    uint32_t thread;                /* the thread that detected it */
    int64_t t_ns;
    int64_t db_id;                  /* collector only: finding.id once written */
    int written_severity;           /* collector only */
    const char *summary;            /* set by collector-side detectors; else store.c composes it */
    _Atomic int64_t resolved_ns;    /* the condition stopped (a deadlock broke); 0 = still true */
    int64_t written_resolved;       /* collector only */
    int suppressed;                 /* collector only: a suppression rule matched it */
    unsigned nitems;
    struct tl_finding_item items[];
};

/* Allocates a finding with room for `nitems` items. NULL when the arena is exhausted. */
struct tl_finding *tl_finding_new(int kind, int severity, uint32_t thread, unsigned nitems);
const char *tl_severity_name(int severity);
const char *tl_finding_kind_name(int kind);
/* Copies `text` into the arena for f->summary. NULL when the arena is exhausted. */
const char *tl_finding_text(const char *text);

#endif
