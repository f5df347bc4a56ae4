/* finding.c - finding records (see finding.h). */
#include "finding.h"

#include "arena.h"
#include "clock.h"
#include "schema.h"

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
    return kind == TL_FINDING_LOCK_ORDER ? TL_KIND_LOCK_ORDER : TL_KIND_LOCK_MISUSE;
}
