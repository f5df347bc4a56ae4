/*
 * screen_threads.c - view 2: one row per thread with its state ("blocked on
 * mutex lock_b (3.2s)", "blocked in join", "running" from its thread_state
 * row; else running, blocked, deadlocked, exited, leaked from its row and
 * the findings), what a finding says it waits for, the locks it holds now
 * (thread_state; else as a finding says), its lifetime and creator. Enter
 * shows each held lock with the function that took it, the current wait with
 * its call site, the creation stack, the blocked stack of a finding, and the
 * findings that name the thread.
 */
#include "screen.h"

#include <inttypes.h>
#include <string.h>

static const struct tl_column cols[] = {
    {"PID", 7, true},        {"T", 4, true},        {"TID", 7, true},
    {"NAME", 14, false},     {"STATE", 34, false},  {"WAITS FOR", 14, false},
    {"HELD", 18, false},     {"LIFETIME", 9, true}, {"CREATOR", 0, false},
};

static int64_t lifetime(const struct tl_model *m, const struct tl_mthread *t,
                        const struct tl_env *env)
{
    const struct tl_mproc *p = tl_model_proc(m, t->proc);
    int64_t end = t->end_ns;

    if (t->start_ns == TL_NULL)
        return -1;
    if (end == TL_NULL)
        end = p && p->end_ns != TL_NULL ? p->end_ns : env->now_ns;
    return end - t->start_ns;
}

static enum tl_sev state_sev(enum tl_tstate s)
{
    switch (s) {
    case TL_TS_DEADLOCKED: return TL_SEV_ERR;
    case TL_TS_LEAKED:
    case TL_TS_BLOCKED: return TL_SEV_WARN;
    default: return TL_SEV_NONE;
    }
}

static void fill(struct tl_panel *p, const struct tl_model *m, const struct tl_env *env)
{
    for (size_t i = 0; i < m->threads.len; i++) {
        const struct tl_mthread *t = tl_vec_at(&m->threads, i);
        struct tl_row *r = tl_panel_add(p, tl_screen_row_id(t->proc, t->id), i);
        int64_t life = lifetime(m, t, env);
        char buf[32], creator[32] = "-", state[160], held[256];

        r->sev = state_sev(t->state);
        tl_fmt_duration(buf, sizeof(buf), life);
        if (t->creator != TL_NULL)
            snprintf(creator, sizeof(creator), "T%" PRId64, t->creator);
        tl_panel_cell(r, 0, (double)t->pid, "%" PRId64, t->pid);
        tl_panel_cell(r, 1, (double)t->id, "%" PRId64, t->id);
        tl_panel_cell(r, 2, t->tid == TL_NULL ? 0 : (double)t->tid, "%" PRId64,
                      t->tid == TL_NULL ? 0 : t->tid);
        tl_panel_cell(r, 3, 0, "%s", t->name ? t->name : "");
        tl_model_state_text(state, sizeof(state), m, t, env->now_ns);
        tl_model_held_text(held, sizeof(held), t);
        tl_panel_cell(r, 4, (double)t->state, "%s", state);
        tl_panel_cell(r, 5, 0, "%s", t->waits ? t->waits : "");
        tl_panel_cell(r, 6, t->has_state ? (double)t->held.len : 0, "%s", held);
        tl_panel_cell(r, 7, (double)life, "%s", buf);
        tl_panel_cell(r, 8, 0, "%s", creator);
    }
}

/* Whether finding f names thread t. */
static bool names_thread(const struct tl_finding *f, const struct tl_mthread *t)
{
    return f->proc == t->proc && tl_load_thread(f, t->id) != NULL;
}

/* Held locks and the current wait of a thread with a thread_state row. */
static void put_current(FILE *out, const struct tl_mthread *t)
{
    fprintf(out, "Holds (%zu):%s\n", t->held.len, t->held.len ? "" : " nothing");
    for (size_t i = 0; i < t->held.len; i++) {
        const struct tl_mheld *h = tl_vec_at(&t->held, i);

        fprintf(out, "  %s%s%s, taken in %s\n", h->kind ? h->kind : "", h->kind ? " " : "",
                h->label, h->function ? h->function : "an unknown function");
    }
    if (!t->wait_kind) {
        fputs("Waits for: nothing (running)\n", out);
        return;
    }
    if (t->wait_label)
        fprintf(out, "Waits for: %s %s", t->wait_kind, t->wait_label);
    else
        fprintf(out, "Waits for: %s", t->wait_kind);
    fprintf(out, ", called from %s\n",
            t->wait_function ? t->wait_function : "an unknown function");
    if (t->waits && t->state != TL_TS_RUNNING)
        fprintf(out, "A finding says it waits for: %s\n", t->waits);
}

static void detail(FILE *out, const struct tl_model *m, const struct tl_row *r,
                   const struct tl_env *env)
{
    const struct tl_mthread *t;
    char life[32], state[160];
    size_t n = 0;

    if (r->ref >= m->threads.len)
        return;
    t = tl_vec_at(&m->threads, r->ref);
    tl_fmt_duration(life, sizeof(life), lifetime(m, t, env));
    fprintf(out, "Thread T%" PRId64, t->id);
    if (t->tid != TL_NULL)
        fprintf(out, " (tid %" PRId64 ")", t->tid);
    if (t->name)
        fprintf(out, " \"%s\"", t->name);
    fprintf(out, " of pid %" PRId64 "\n", t->pid);
    tl_model_state_text(state, sizeof(state), m, t, env->now_ns);
    fprintf(out, "State: %s", state);
    if (t->end_how)
        fprintf(out, " (%s)", t->end_how);
    fprintf(out, ", lifetime %s\n", life);
    if (t->creator != TL_NULL)
        fprintf(out, "Created by T%" PRId64 "\n", t->creator);
    if (t->has_state) {
        put_current(out, t);
    } else {
        fprintf(out, "Holds: %s\n",
                t->holds ? t->holds : "not known (no thread_state row; findings name held "
                                      "locks only for deadlocked and blocked threads)");
        fprintf(out, "Waits for: %s\n", t->waits ? t->waits : "nothing known");
    }
    if (t->blocked) {
        fputs("\nBlocked at:\n", out);
        tl_screen_put_frames(out, &t->blocked->frames, "  ");
    }
    fputs("\nCreated at:\n", out);
    if (t->create_stack == TL_NULL)
        fputs("  (no stack recorded; the main thread or a thread the agent did not see "
              "created)\n", out);
    else
        tl_screen_put_stack(out, env, t->create_stack, "  ");
    fputs("\nFindings naming this thread:\n", out);
    for (size_t i = 0; i < m->newest.len; i++) {
        const struct tl_finding *f = tl_model_newest(m, i);

        if (!names_thread(f, t))
            continue;
        fprintf(out, "  #%" PRId64 " %s %s: %s\n", f->id, f->severity, f->kind, f->summary);
        n++;
    }
    if (n == 0)
        fputs("  none\n", out);
}

const struct tl_screen tl_screen_threads = {
    .name = "Threads",
    .cols = cols,
    .ncols = sizeof(cols) / sizeof(cols[0]),
    .sort_col = 1,
    .invert = false,
    .empty = "no threads recorded",
    .fill = fill,
    .head = NULL,
    .detail = detail,
};
