/* finding.c - finding records (see finding.h). */
#include "finding.h"

#include "arena.h"
#include "clock.h"
#include "schema.h"

#include <string.h>

struct tl_finding *tl_finding_new(int kind, int severity, uint32_t thread, unsigned nitems)
{
    struct tl_finding *f = tl_arena_alloc(sizeof *f + nitems * sizeof f->items[0]);
    if (!f)
        return NULL;
    f->pub.type = TL_PUB_FINDING;
    f->kind = (uint8_t)kind;
    atomic_store(&f->severity, severity);
    f->thread = thread;
    f->t_ns = tl_now_ns();
    f->written_severity = -1;
    f->nitems = nitems;
    return f;
}

const char *tl_severity_name(int severity)
{
    switch (severity) {
    case TL_SEVERITY_ERROR: return TL_SEV_ERROR;
    case TL_SEVERITY_WARNING: return TL_SEV_WARNING;
    default: return TL_SEV_INFO;
    }
}

const char *tl_finding_kind_name(int kind)
{
    switch (kind) {
    case TL_FINDING_LOCK_ORDER: return TL_KIND_LOCK_ORDER;
    case TL_FINDING_LOCK_MISUSE: return TL_KIND_LOCK_MISUSE;
    case TL_FINDING_DEADLOCK: return TL_KIND_DEADLOCK;
    case TL_FINDING_BLOCKED: return TL_KIND_BLOCKED;
    case TL_FINDING_MEMORY_LEAK: return TL_KIND_MEMORY_LEAK;
    case TL_FINDING_MEMORY_GROWTH: return TL_KIND_MEMORY_GROWTH;
    case TL_FINDING_THREAD_GROWTH: return TL_KIND_THREAD_GROWTH;
    case TL_FINDING_TASK_LEAK: return TL_KIND_TASK_LEAK;
    case TL_FINDING_TASK_GROWTH: return TL_KIND_TASK_GROWTH;
    case TL_FINDING_LIMIT: return TL_KIND_LIMIT;
    default: return TL_KIND_THREAD_LEAK;
    }
}

/* Formats a summary into the arena (findings live as long as the process). NULL on failure. */
const char *tl_finding_text(const char *text)
{
    size_t n = strlen(text) + 1;
    char *copy = tl_arena_alloc(n);
    if (copy)
        memcpy(copy, text, n);
    return copy;
}
