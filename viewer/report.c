/*
 * report.c - the --report text. Sections: process lines, findings (edge
 * findings as a cycle plus one block per edge, others as threads, locks and
 * stacks), totals. Frames print as "#N function module-basename+0xOFFSET".
 */
#include "report.h"

#include <ctype.h>
#include <stdbool.h>
#include <inttypes.h>
#include <string.h>

#define RULE "=================="

struct ctx {
    FILE *out;                    /* destination */
    const struct tl_finding *f;   /* finding being printed */
    const struct tl_stack *first; /* first stack printed, for the SUMMARY line */
};

/* Writes s, or `none` when s is NULL, with control bytes shown as '?'. */
static void put_text(FILE *out, const char *s, const char *none)
{
    if (!s)
        s = none;
    for (; *s; s++)
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

static const char *basename_of(const char *path)
{
    const char *slash = path ? strrchr(path, '/') : NULL;

    return slash ? slash + 1 : path;
}

/* "T2 (tid 4567, "worker")", or "T2" when the thread row is missing. */
static void put_thread(const struct ctx *c, int64_t id, bool detail)
{
    const struct tl_fthread *t = tl_load_thread(c->f, id);

    fprintf(c->out, "T%" PRId64, id);
    if (!detail || !t || t->tid == TL_NULL)
        return;
    fprintf(c->out, " (tid %" PRId64, t->tid);
    if (t->name) {
        fputs(", \"", c->out);
        put_text(c->out, t->name, "");
        fputc('"', c->out);
    }
    fputc(')', c->out);
}

/* "mutex lock_a", "rwlock 0x7f0012345678"; Capitalized at a sentence start. */
static void put_lock(const struct ctx *c, int64_t id, bool capital)
{
    const struct tl_flock *k = tl_load_lock(c->f, id);
    const char *kind = k && k->kind && k->kind[0] ? k->kind : "lock";

    fputc(capital ? toupper((unsigned char)kind[0]) : kind[0], c->out);
    put_text(c->out, kind + 1, "");
    fputc(' ', c->out);
    if (k && k->name)
        put_text(c->out, k->name, "");
    else if (k && k->addr != TL_NULL)
        fprintf(c->out, "0x%" PRIx64, (uint64_t)k->addr);
    else
        fprintf(c->out, "#%" PRId64, id);
}

static void put_frames(struct ctx *c, const struct tl_stack *s)
{
    if (!c->first)
        c->first = s;
    if (!s || s->frames.len == 0) {
        fputs("    (no stack recorded)\n", c->out);
        return;
    }
    for (size_t i = 0; i < s->frames.len; i++) {
        const struct tl_frame *fr = tl_vec_at(&s->frames, i);

        fprintf(c->out, "    #%zu ", i);
        put_text(c->out, fr->function, "??");
        fputc(' ', c->out);
        put_text(c->out, basename_of(fr->module), "??");
        if (fr->offset != TL_NULL)
            fprintf(c->out, "+0x%" PRIx64, (uint64_t)fr->offset);
        fputc('\n', c->out);
    }
}

/* Returns the stack of edge `idx` with `role` ("held", "acquired"), or NULL. */
static const struct tl_stack *edge_stack(const struct tl_finding *f, size_t idx, const char *role)
{
    for (size_t i = 0; i < f->stacks.len; i++) {
        const struct tl_stack *s = tl_vec_at(&f->stacks, i);

        if (s->edge == (int64_t)idx && strcmp(s->role, role) == 0)
            return s;
    }
    return NULL;
}

static void put_cycle(struct ctx *c)
{
    const struct tl_fedge *e = tl_vec_at(&c->f->edges, 0);

    fputs("  Cycle: ", c->out);
    put_lock(c, e->from, false);
    for (size_t i = 0; i < c->f->edges.len; i++) {
        e = tl_vec_at(&c->f->edges, i);
        fputs(" -> ", c->out);
        put_lock(c, e->to, false);
    }
    fputc('\n', c->out);
}

/* One block per edge: where `to` was acquired, then where `from` was. */
static void put_edge(struct ctx *c, size_t idx)
{
    const struct tl_fedge *e = tl_vec_at(&c->f->edges, idx);

    fputs("\n  ", c->out);
    if (e->thread != TL_NULL) {
        fputs("Thread ", c->out);
        put_thread(c, e->thread, true);
    } else {
        fputs("A thread", c->out);
    }
    fputs(" acquired ", c->out);
    put_lock(c, e->to, false);
    fputs(" while holding ", c->out);
    put_lock(c, e->from, false);
    fputs(":\n", c->out);
    put_frames(c, edge_stack(c->f, idx, "acquired"));
    fputs("  ", c->out);
    put_lock(c, e->from, true);
    fputs(" was acquired", c->out);
    if (e->thread != TL_NULL) {
        fputs(" by ", c->out);
        put_thread(c, e->thread, false);
    }
    fputs(" at:\n", c->out);
    put_frames(c, edge_stack(c->f, idx, "held"));
}

static void put_members(struct ctx *c)
{
    for (size_t i = 0; i < c->f->threads.len; i++) {
        const struct tl_fthread *t = tl_vec_at(&c->f->threads, i);

        fputs("  Thread ", c->out);
        put_thread(c, t->id, true);
        fputc('\n', c->out);
    }
    for (size_t i = 0; i < c->f->locks.len; i++) {
        const struct tl_flock *k = tl_vec_at(&c->f->locks, i);

        fputs("  ", c->out);
        put_lock(c, k->id, true);
        if (k->name && k->addr != TL_NULL)
            fprintf(c->out, " (0x%" PRIx64 ")", (uint64_t)k->addr);
        fputc('\n', c->out);
    }
}

static void put_heading(const struct ctx *c, const struct tl_stack *s)
{
    static const char *const names[][2] = {
        {"site", "Site:"},
        {"acquired", "Lock acquired at:"},
        {"created", "Thread created at:"},
        {"held", "Held lock acquired at:"},
    };
    const char *heading = NULL;

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(s->role, names[i][0]) == 0)
            heading = names[i][1];
    }
    fputs("\n  ", c->out);
    if (heading) {
        fputs(heading, c->out);
    } else {
        fputs("Stack (", c->out);
        put_text(c->out, s->role, "");
        fputs("):", c->out);
    }
    if (s->thread == TL_NULL && s->lock == TL_NULL) {
        fputc('\n', c->out);
        return;
    }
    fputs(" [", c->out);
    if (s->thread != TL_NULL)
        put_thread(c, s->thread, false);
    if (s->thread != TL_NULL && s->lock != TL_NULL)
        fputs(", ", c->out);
    if (s->lock != TL_NULL)
        put_lock(c, s->lock, false);
    fputs("]\n", c->out);
}

/* Stacks that are not part of an edge block, each under its heading. */
static void put_other_stacks(struct ctx *c)
{
    for (size_t i = 0; i < c->f->stacks.len; i++) {
        const struct tl_stack *s = tl_vec_at(&c->f->stacks, i);

        if (s->edge != TL_NULL && (strcmp(s->role, "held") == 0 ||
                                   strcmp(s->role, "acquired") == 0))
            continue;
        put_heading(c, s);
        put_frames(c, s);
    }
}

static void put_summary_line(const struct ctx *c)
{
    const struct tl_frame *fr = NULL;

    if (c->first && c->first->frames.len > 0)
        fr = tl_vec_at(&c->first->frames, 0);
    fputs("SUMMARY: threadlens: ", c->out);
    put_text(c->out, c->f->kind, "?");
    if (fr && fr->function) {
        fputs(" in ", c->out);
        put_text(c->out, fr->function, "");
    } else if (fr && fr->module) {
        fputs(" in ", c->out);
        put_text(c->out, basename_of(fr->module), "");
        if (fr->offset != TL_NULL)
            fprintf(c->out, "+0x%" PRIx64, (uint64_t)fr->offset);
    }
    fputc('\n', c->out);
}

static void put_finding(FILE *out, const struct tl_finding *f)
{
    struct ctx c = {.out = out, .f = f, .first = NULL};

    fputs(RULE "\nWARNING: threadlens: ", out);
    put_text(out, f->kind, "?");
    if (f->pid != TL_NULL)
        fprintf(out, " (pid=%" PRId64 ")", f->pid);
    fputs("\n  severity: ", out);
    put_text(out, f->severity, "?");
    fputs("\n  ", out);
    put_text(out, f->summary, "");
    fputc('\n', out);
    if (f->edges.len > 0) {
        put_cycle(&c);
        for (size_t i = 0; i < f->edges.len; i++)
            put_edge(&c, i);
    } else {
        put_members(&c);
    }
    put_other_stacks(&c);
    put_summary_line(&c);
    fputs(RULE "\n", out);
}

static void put_process(FILE *out, const struct tl_process *p)
{
    fprintf(out, "process %" PRId64 " ", p->pid);
    put_text(out, p->exe, "?");
    if (p->end_ns == TL_NULL)
        fputs(" still running", out);
    else if (p->exit_status == TL_NULL)
        fputs(" ended", out);
    else if (!p->end_reason || strcmp(p->end_reason, "exit") == 0)
        fprintf(out, " exited with status %" PRId64, p->exit_status);
    else
        fprintf(out, " ended with status %" PRId64, p->exit_status);
    if (p->end_ns != TL_NULL && p->end_reason && strcmp(p->end_reason, "exit") != 0) {
        fputs(" (", out);
        put_text(out, p->end_reason, "");
        fputc(')', out);
    }
    fputc('\n', out);
}

static const char *plural(size_t n)
{
    return n == 1 ? "" : "s";
}

/* Writes the whole report of run to out. Write errors stay in ferror(out). */
void tl_report_write(FILE *out, const struct tl_run *run)
{
    for (size_t i = 0; i < run->processes.len; i++)
        put_process(out, tl_vec_at(&run->processes, i));
    for (size_t i = 0; i < run->findings.len; i++)
        put_finding(out, tl_vec_at(&run->findings, i));
    if (run->findings.len == 0)
        fputs("threadlens: no findings\n", out);
    else
        fprintf(out, "threadlens: %zu finding%s (%zu error%s, %zu warning%s, %zu info)\n",
                run->findings.len, plural(run->findings.len), run->n_error, plural(run->n_error),
                run->n_warning, plural(run->n_warning), run->n_info);
}
