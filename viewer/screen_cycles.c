/*
 * screen_cycles.c - view 4: lock-order inversions (deadlocks that can
 * happen) and deadlocks (happening now), each as a chain
 * "T1 holds A -> wants B -> held by T2 -> wants A" (tl_model_chain). Enter
 * shows the chain, then the finding's report with the stacks of each edge.
 */
#include "screen.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "schema.h"

static const struct tl_column cols[] = {
    {"ID", 5, true},          {"KIND", 21, false}, {"SEVERITY", 9, false},
    {"STATE", 9, false},      {"CHAIN", 0, false},
};

static bool is_cycle(const struct tl_finding *f)
{
    return f->kind && (strcmp(f->kind, TL_KIND_LOCK_ORDER) == 0 ||
                       strcmp(f->kind, TL_KIND_DEADLOCK) == 0);
}

static void fill(struct tl_panel *p, const struct tl_model *m, const struct tl_env *env)
{
    (void)env;
    for (size_t i = 0; i < m->run.findings.len; i++) {
        const struct tl_finding *f = tl_vec_at(&m->run.findings, i);
        struct tl_row *r;
        char *chain;

        if (!is_cycle(f))
            continue;
        r = tl_panel_add(p, f->id, i);
        chain = tl_model_chain(f);
        r->sev = tl_screen_sev(f->severity);
        tl_panel_cell(r, 0, (double)f->id, "%" PRId64, f->id);
        tl_panel_cell(r, 1, 0, "%s", f->kind);
        tl_panel_cell(r, 2, (double)r->sev, "%s", f->severity ? f->severity : "?");
        tl_panel_cell(r, 3, 0, "%s", f->resolved_ns == TL_NULL ? "open" : "resolved");
        tl_panel_cell(r, 4, 0, "%s", chain ? chain : (f->summary ? f->summary : ""));
        free(chain);
    }
}

static void detail(FILE *out, const struct tl_model *m, const struct tl_row *r,
                   const struct tl_env *env)
{
    const struct tl_finding *f;
    char *chain;

    (void)env;
    if (r->ref >= m->run.findings.len)
        return;
    f = tl_vec_at(&m->run.findings, r->ref);
    chain = tl_model_chain(f);
    fprintf(out, "%s\n\n", chain ? chain : "(no chain recorded)");
    free(chain);
    tl_report_finding(out, f);
}

const struct tl_screen tl_screen_cycles = {
    .name = "Cycles",
    .cols = cols,
    .ncols = sizeof(cols) / sizeof(cols[0]),
    .sort_col = 0,
    .invert = true,
    .empty = "no lock-order cycles nor deadlocks found",
    .fill = fill,
    .head = NULL,
    .detail = detail,
};
