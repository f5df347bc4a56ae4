/*
 * screen_findings.c - view 6, every finding with its severity colour; Enter
 * shows the finding as `threadlens-top --report` prints it (report.c). The
 * list part is shared with the Overview (screen.h).
 */
#include "screen.h"

#include <inttypes.h>

#include "report.h"

const struct tl_column tl_finding_cols[TL_FINDING_COLS] = {
    {"ID", 5, true},     {"AT", 9, true}, {"SEVERITY", 9, false}, {"KIND", 21, false},
    {"PID", 7, true},    {"STATE", 9, false}, {"SUMMARY", 0, false},
};

/* One row per finding; ref is the index into m->run.findings. */
void tl_findings_fill(struct tl_panel *p, const struct tl_model *m, const struct tl_env *env)
{
    (void)env;
    for (size_t i = 0; i < m->run.findings.len; i++) {
        const struct tl_finding *f = tl_vec_at(&m->run.findings, i);
        const struct tl_mproc *proc = tl_model_proc(m, f->proc);
        struct tl_row *r = tl_panel_add(p, f->id, i);
        int64_t at = TL_NULL;
        char when[32] = "-";

        if (proc && proc->start_ns != TL_NULL && f->t_ns != TL_NULL) {
            at = f->t_ns - proc->start_ns;
            tl_fmt_duration(when, sizeof(when), at);
        }
        r->sev = tl_screen_sev(f->severity);
        tl_panel_cell(r, 0, (double)f->id, "%" PRId64, f->id);
        tl_panel_cell(r, 1, f->t_ns == TL_NULL ? 0 : (double)f->t_ns, "%s", when);
        tl_panel_cell(r, 2, (double)r->sev, "%s", f->severity ? f->severity : "?");
        tl_panel_cell(r, 3, 0, "%s", f->kind ? f->kind : "?");
        tl_panel_cell(r, 4, (double)(f->pid == TL_NULL ? 0 : f->pid), "%" PRId64,
                      f->pid == TL_NULL ? 0 : f->pid);
        tl_panel_cell(r, 5, 0, "%s", f->resolved_ns == TL_NULL ? "open" : "resolved");
        tl_panel_cell(r, 6, 0, "%s", f->summary ? f->summary : "");
    }
}

void tl_findings_detail(FILE *out, const struct tl_model *m, const struct tl_row *r,
                        const struct tl_env *env)
{
    (void)env;
    if (r->ref < m->run.findings.len)
        tl_report_finding(out, tl_vec_at(&m->run.findings, r->ref));
}

const struct tl_screen tl_screen_findings = {
    .name = "Findings",
    .cols = tl_finding_cols,
    .ncols = TL_FINDING_COLS,
    .sort_col = 1,
    .invert = true,
    .empty = "no findings",
    .fill = tl_findings_fill,
    .head = NULL,
    .detail = tl_findings_detail,
};
