/*
 * report.c - the --report text. Sections: process lines, findings, totals.
 * A finding prints in one of three shapes: edge findings as a cycle plus one
 * block per edge; thread-grouped findings (deadlock, blocked-thread,
 * thread-leak) as one block per thread with the items that follow its
 * `thread` item; others as threads, locks and stacks. Frames print as
 * "#N function file:line (module-basename+0xOFFSET)" when the module's debug
 * info has the line (symbolize.c), else "#N function module-basename+0xOFFSET".
 * The closing "SUMMARY: threadlens: <kind> [file:line] in <function>" names
 * the innermost frame of the first stack printed.
 */
#include "report.h"

#include <ctype.h>
#include <stdbool.h>
#include <inttypes.h>
#include <string.h>

#include "schema.h"
#include "screen.h"
#include "symbolize.h"

#define RULE "=================="
#define TOP "    "  /* indent of frames under a finding-level heading */
#define NEST "      " /* indent of frames under a heading inside a thread block */

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

static bool is(const char *s, const char *want)
{
    return s && strcmp(s, want) == 0;
}

/* "module-basename+0xOFFSET" */
static void put_module(FILE *out, const struct tl_frame *fr)
{
    put_text(out, basename_of(fr->module), "??");
    if (fr->offset != TL_NULL)
        fprintf(out, "+0x%" PRIx64, (uint64_t)fr->offset);
}

/* Writes the frames of s, each line starting with indent. */
static void put_frames(struct ctx *c, const struct tl_stack *s, const char *indent)
{
    if (!c->first)
        c->first = s;
    if (!s || s->frames.len == 0) {
        fprintf(c->out, "%s(no stack recorded)\n", indent);
        return;
    }
    for (size_t i = 0; i < s->frames.len; i++) {
        const struct tl_frame *fr = tl_vec_at(&s->frames, i);

        const char *file;
        unsigned line;
        bool known = tl_symbolize(fr->module, fr->offset, &file, &line) == 0;

        fprintf(c->out, "%s#%zu ", indent, i);
        put_text(c->out, fr->function, "??");
        fputc(' ', c->out);
        if (known) {
            put_text(c->out, file, "");
            fprintf(c->out, ":%u (", line);
        }
        put_module(c->out, fr);
        fputs(known ? ")\n" : "\n", c->out);
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
    put_frames(c, edge_stack(c->f, idx, "acquired"), TOP);
    fputs("  ", c->out);
    put_lock(c, e->from, true);
    fputs(" was acquired", c->out);
    if (e->thread != TL_NULL) {
        fputs(" by ", c->out);
        put_thread(c, e->thread, false);
    }
    fputs(" at:\n", c->out);
    put_frames(c, edge_stack(c->f, idx, "held"), TOP);
}

/* "Mutex lock_a (0x55d0c0ffee00)": the address only when a name hides it. */
static void put_lock_line(const struct ctx *c, int64_t id, const char *indent)
{
    const struct tl_flock *k = tl_load_lock(c->f, id);

    fputs(indent, c->out);
    put_lock(c, id, true);
    if (k && k->name && k->addr != TL_NULL)
        fprintf(c->out, " (0x%" PRIx64 ")", (uint64_t)k->addr);
    fputc('\n', c->out);
}

static void put_members(struct ctx *c)
{
    for (size_t i = 0; i < c->f->threads.len; i++) {
        const struct tl_fthread *t = tl_vec_at(&c->f->threads, i);

        fputs("  Thread ", c->out);
        put_thread(c, t->id, true);
        fputc('\n', c->out);
    }
    for (size_t i = 0; i < c->f->locks.len; i++)
        put_lock_line(c, ((const struct tl_flock *)tl_vec_at(&c->f->locks, i))->id, "  ");
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
        put_frames(c, s, TOP);
    }
}

/*
 * Thread-grouped findings. Their items come as blocks: a thread's own
 * `thread` item, then the locks, joins and stacks about that thread, until
 * the next thread's item. Items before the first block (thread-leak's
 * creation stack) belong to the whole finding.
 */

static const struct tl_fitem *item(const struct ctx *c, size_t i)
{
    return tl_vec_at(&c->f->items, i);
}

/* Whether it opens a thread block: a `thread` item that is not a `joins` reference. */
static bool starts_block(const struct tl_fitem *it)
{
    return is(it->role, "thread") && it->thread != TL_NULL && !is(it->detail, "joins");
}

/* Returns the index of the first item after the block that starts at i. */
static size_t block_end(const struct ctx *c, size_t i)
{
    for (i++; i < c->f->items.len; i++) {
        if (starts_block(item(c, i)))
            break;
    }
    return i;
}

/* Whether f's items are blocks per thread, and it has at least one block. */
static bool thread_grouped(const struct tl_finding *f)
{
    if (!is(f->kind, TL_KIND_DEADLOCK) && !is(f->kind, TL_KIND_BLOCKED) &&
        !is(f->kind, TL_KIND_THREAD_LEAK))
        return false;
    for (size_t i = 0; i < f->items.len; i++) {
        if (starts_block(tl_vec_at(&f->items, i)))
            return true;
    }
    return false;
}

static const struct tl_stack *item_stack(const struct ctx *c, const struct tl_fitem *it)
{
    if (!is(it->role, "stack") || it->stack == TL_NULL)
        return NULL;
    return tl_vec_at(&c->f->stacks, (size_t)it->stack);
}

/* "Blocked at:", "Mutex lock_a acquired at:", ... after indent. */
static void put_item_heading(const struct ctx *c, const struct tl_stack *s, const char *indent)
{
    fputs(indent, c->out);
    if (is(s->role, "acquired") && s->lock != TL_NULL) {
        put_lock(c, s->lock, true);
        fputs(" acquired at:\n", c->out);
    } else if (is(s->role, "blocked")) {
        fputs("Blocked at:\n", c->out);
    } else if (is(s->role, "created")) {
        fputs("Created at:\n", c->out);
    } else if (is(s->role, "site")) {
        fputs("Site:\n", c->out);
    } else if (is(s->role, "acquired")) {
        fputs("Lock acquired at:\n", c->out);
    } else {
        fputs("Stack (", c->out);
        put_text(c->out, s->role, "");
        fputs("):\n", c->out);
    }
}

/* What a blocked thread waits in, from its thread item's detail, when no item names it. */
static const char *wait_phrase(const char *detail)
{
    static const char *const phrases[][2] = {
        {"mutex", "waits for a mutex"},
        {"rwlock", "waits for an rwlock"},
        {"cond", "waits on a condition variable"},
        {"sem", "waits on a semaphore"},
        {"barrier", "waits at a barrier"},
        {"join", "waits in pthread_join"},
    };

    for (size_t i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++) {
        if (is(detail, phrases[i][0]))
            return phrases[i][1];
    }
    return NULL;
}

/* Whether the item prints inside a deadlock or blocked-thread block (not in its header). */
static bool in_wait_body(const struct ctx *c, const struct tl_fitem *it)
{
    if (is(it->role, "lock"))
        return it->lock != TL_NULL && !is(it->detail, "holds") && !is(it->detail, "waits");
    return item_stack(c, it) != NULL;
}

/*
 * "  Thread T2 (tid 5002, "w") holds mutex lock_a and waits for mutex lock_b:"
 * for the block [first, end) of a deadlock or blocked-thread finding.
 */
static void put_wait_header(const struct ctx *c, size_t first, size_t end)
{
    const struct tl_fitem *t = item(c, first);
    bool holds = false, waits = false, body = false;

    fputs("\n  Thread ", c->out);
    put_thread(c, t->thread, true);
    for (size_t i = first + 1; i < end; i++) {
        const struct tl_fitem *it = item(c, i);

        if (is(it->role, "lock") && is(it->detail, "holds") && it->lock != TL_NULL) {
            fputs(holds ? ", " : " holds ", c->out);
            put_lock(c, it->lock, false);
            holds = true;
        }
        body = body || in_wait_body(c, it);
    }
    for (size_t i = first + 1; i < end; i++) {
        const struct tl_fitem *it = item(c, i);
        bool lock = is(it->role, "lock") && is(it->detail, "waits") && it->lock != TL_NULL;
        bool join = is(it->role, "thread") && is(it->detail, "joins") && it->thread != TL_NULL;

        if (!lock && !join)
            continue;
        fputs(holds || waits ? " and " : " ", c->out);
        if (lock) {
            fputs("waits for ", c->out);
            put_lock(c, it->lock, false);
        } else {
            fputs("waits to join ", c->out);
            put_thread(c, it->thread, false);
        }
        waits = true;
    }
    if (!waits && t->detail) {
        const char *phrase = wait_phrase(t->detail);

        fputs(holds ? " and " : " ", c->out);
        if (phrase) {
            fputs(phrase, c->out);
        } else {
            fputs("waits in ", c->out);
            put_text(c->out, t->detail, "");
        }
    }
    fputs(body ? ":\n" : "\n", c->out);
}

/* "  Thread T4 (tid 5004): finished, never joined or detached", a thread-leak block. */
static void put_leak_header(const struct ctx *c, size_t first)
{
    const struct tl_fitem *t = item(c, first);

    fputs("  Thread ", c->out);
    put_thread(c, t->thread, true);
    if (is(t->detail, "zombie")) {
        fputs(": finished, never joined or detached", c->out);
    } else if (is(t->detail, "running")) {
        fputs(": still running at exit", c->out);
    } else if (t->detail) {
        fputs(": ", c->out);
        put_text(c->out, t->detail, "");
    }
    fputc('\n', c->out);
}

/*
 * The items of a block after its thread item. In a deadlock or blocked-thread
 * block, held and awaited locks and joins are already in the header.
 */
static void put_block_body(struct ctx *c, size_t first, size_t end, bool leak)
{
    for (size_t i = first + 1; i < end; i++) {
        const struct tl_fitem *it = item(c, i);
        const struct tl_stack *s = item_stack(c, it);

        if (s) {
            put_item_heading(c, s, "    ");
            put_frames(c, s, NEST);
        } else if (is(it->role, "lock") && it->lock != TL_NULL &&
                   (leak || in_wait_body(c, it))) {
            if (is(it->detail, "waits") || is(it->detail, "holds")) {
                fputs(is(it->detail, "waits") ? "    Waits for " : "    Holds ", c->out);
                put_lock(c, it->lock, false);
                fputc('\n', c->out);
            } else {
                put_lock_line(c, it->lock, "    ");
            }
        } else if (leak && is(it->role, "thread") && it->thread != TL_NULL) {
            fputs("    Waits to join ", c->out);
            put_thread(c, it->thread, false);
            fputc('\n', c->out);
        }
    }
}

/*
 * Items before the first block: stacks under a heading, locks as lines.
 * Then one block per thread; thread-leak blocks are one line each (plus the
 * thread's blocked stack), so they are not separated by blank lines.
 */
static void put_blocks(struct ctx *c)
{
    bool leak = is(c->f->kind, TL_KIND_THREAD_LEAK);
    size_t i = 0;

    for (; i < c->f->items.len && !starts_block(item(c, i)); i++) {
        const struct tl_fitem *it = item(c, i);
        const struct tl_stack *s = item_stack(c, it);

        if (s) {
            put_item_heading(c, s, "\n  ");
            put_frames(c, s, TOP);
        } else if (is(it->role, "lock") && it->lock != TL_NULL) {
            put_lock_line(c, it->lock, "  ");
        }
    }
    if (leak)
        fputc('\n', c->out);
    while (i < c->f->items.len) {
        size_t end = block_end(c, i);

        if (leak)
            put_leak_header(c, i);
        else
            put_wait_header(c, i, end);
        put_block_body(c, i, end, leak);
        i = end;
    }
}

/* "  resolved: after 1.5 s", the time from finding to resolution in tenths. */
static void put_resolved(FILE *out, const struct tl_finding *f)
{
    int64_t tenths;

    if (f->resolved_ns == TL_NULL)
        return;
    if (f->t_ns == TL_NULL || f->resolved_ns < f->t_ns) {
        fputs("\n  resolved: after an unknown time", out);
        return;
    }
    tenths = (int64_t)(((uint64_t)f->resolved_ns - (uint64_t)f->t_ns + 50000000u) / 100000000u);
    fprintf(out, "\n  resolved: after %" PRId64 ".%" PRId64 " s", tenths / 10, tenths % 10);
}

static void put_summary_line(const struct ctx *c)
{
    const struct tl_frame *fr = NULL;
    const char *file;
    unsigned line;

    if (c->first && c->first->frames.len > 0)
        fr = tl_vec_at(&c->first->frames, 0);
    fputs("SUMMARY: threadlens: ", c->out);
    put_text(c->out, c->f->kind, "?");
    if (fr && tl_symbolize(fr->module, fr->offset, &file, &line) == 0) {
        fputc(' ', c->out);
        put_text(c->out, file, "");
        fprintf(c->out, ":%u", line);
    }
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
    if (f->suppressed)
        fputs("\n  suppressed (listed by --show-suppressed)", out);
    fputs("\n  severity: ", out);
    put_text(out, f->severity, "?");
    put_resolved(out, f);
    fputs("\n  ", out);
    put_text(out, f->summary, "");
    fputc('\n', out);
    if (thread_grouped(f)) {
        put_blocks(&c);
    } else if (f->edges.len > 0) {
        put_cycle(&c);
        for (size_t i = 0; i < f->edges.len; i++)
            put_edge(&c, i);
        put_other_stacks(&c);
    } else {
        put_members(&c);
        put_other_stacks(&c);
    }
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
    if (p->attach_ns != TL_NULL && p->start_ns != TL_NULL && p->attach_ns >= p->start_ns)
        fprintf(out, "; recorded since attach, %.1f s after it started",
                (double)(p->attach_ns - p->start_ns) / 1e9);
    else if (p->attach_ns != TL_NULL)
        fputs("; recorded since attach", out);
    fputc('\n', out);
}

/*
 * What the agent cost the process, from its samples, under its line:
 * "  agent: collector busy 264.0ms, 2.13% of the 12.40s recorded; longest tick
 * 240.0ms; memory at most 3.0 MiB". The time the interposers add to the
 * program's own threads is not in the database (bench/run.sh measures it).
 * No line before the first sample; no share while the process runs, or
 * when the clocks disagree (more collector time than time recorded).
 */
static void put_agent_cost(FILE *out, const struct tl_process *p)
{
    char buf[32];
    int64_t from = p->attach_ns != TL_NULL ? p->attach_ns : p->start_ns;

    if (p->samples <= 0)
        return;
    tl_fmt_wait(buf, sizeof(buf), p->collector_ns, false);
    fprintf(out, "  agent: collector busy %s", buf);
    if (p->end_ns != TL_NULL && from != TL_NULL && p->end_ns > from &&
        p->collector_ns <= p->end_ns - from) {
        tl_fmt_wait(buf, sizeof(buf), p->end_ns - from, false);
        fprintf(out, ", %.2f%% of the %s recorded",
                100.0 * (double)p->collector_ns / (double)(p->end_ns - from), buf);
    }
    if (p->collector_max_ns != TL_NULL) {
        tl_fmt_wait(buf, sizeof(buf), p->collector_max_ns, false);
        fprintf(out, "; longest tick %s", buf);
    }
    if (p->agent_max_bytes != TL_NULL) {
        tl_fmt_bytes(buf, sizeof(buf), (double)p->agent_max_bytes);
        fprintf(out, "; memory at most %s", buf);
    }
    fputc('\n', out);
}

static const char *plural(size_t n)
{
    return n == 1 ? "" : "s";
}

/*
 * Writes one finding's block exactly as the whole report prints it (the
 * viewer's Findings detail pane). Write errors stay in ferror(out).
 */
void tl_report_finding(FILE *out, const struct tl_finding *f)
{
    put_finding(out, f);
}

/* Writes the whole report of run to out. Write errors stay in ferror(out). */
void tl_report_write(FILE *out, const struct tl_run *run)
{
    for (size_t i = 0; i < run->processes.len; i++) {
        put_process(out, tl_vec_at(&run->processes, i));
        put_agent_cost(out, tl_vec_at(&run->processes, i));
    }
    for (size_t i = 0; i < run->findings.len; i++)
        put_finding(out, tl_vec_at(&run->findings, i));
    size_t shown = 0; /* suppressed ones are listed with --show-suppressed, not counted */
    for (size_t i = 0; i < run->findings.len; i++)
        shown += !((const struct tl_finding *)tl_vec_at(&run->findings, i))->suppressed;
    if (shown == 0)
        fputs("threadlens: no findings", out);
    else
        fprintf(out, "threadlens: %zu finding%s (%zu error%s, %zu warning%s, %zu info)", shown,
                plural(shown), run->n_error, plural(run->n_error), run->n_warning,
                plural(run->n_warning), run->n_info);
    if (run->n_suppressed)
        fprintf(out, "; %zu suppressed", run->n_suppressed);
    fputc('\n', out);
}
