/*
 * screen_locks.c - view 3: one row per lock (kind, name, acquisitions,
 * contentions, total and longest wait, lock-order edges, where it was first
 * seen), sorted by total wait, descending, like a Go mutex profile: the lock
 * that cost its threads the most time comes first, however rarely it was
 * contended. Enter shows its first stack and every lock-order edge that
 * starts or ends at it, with both stacks of each.
 */
#include "screen.h"

#include <inttypes.h>

#define COL_WAIT 6 /* the default sort */

static const struct tl_column cols[] = {
    {"PID", 7, true},         {"KIND", 10, false},     {"NAME", 20, false},
    {"ACQUIRED", 10, true},   {"CONTENDED", 10, true}, {"CONT%", 6, true},
    {"WAIT", 9, true},        {"MAX WAIT", 9, true},   {"EDGES", 6, true},
    {"FIRST SEEN IN", 0, false},
};

static void fill(struct tl_panel *p, const struct tl_model *m, const struct tl_env *env)
{
    for (size_t i = 0; i < m->locks.len; i++) {
        const struct tl_mlock *k = tl_vec_at(&m->locks, i);
        struct tl_row *r = tl_panel_add(p, tl_screen_row_id(k->proc, k->id), i);
        double pct = k->acquisitions > 0 ? 100.0 * (double)k->contentions /
                                                   (double)k->acquisitions : 0;
        char wait[32], max[32];

        tl_fmt_wait(wait, sizeof(wait), k->wait_ns, env->utf8);
        tl_fmt_wait(max, sizeof(max), k->wait_max_ns, env->utf8);

        tl_panel_cell(r, 0, (double)k->pid, "%" PRId64, k->pid);
        tl_panel_cell(r, 1, 0, "%s", k->kind ? k->kind : "?");
        tl_panel_cell(r, 2, 0, "%s", k->label);
        tl_panel_cell(r, 3, (double)k->acquisitions, "%" PRId64, k->acquisitions);
        tl_panel_cell(r, 4, (double)k->contentions, "%" PRId64, k->contentions);
        tl_panel_cell(r, 5, pct, "%.1f", pct);
        tl_panel_cell(r, COL_WAIT, (double)k->wait_ns, "%s", wait);
        tl_panel_cell(r, 7, (double)k->wait_max_ns, "%s", max);
        tl_panel_cell(r, 8, (double)k->edges, "%" PRId64, k->edges);
        tl_panel_cell(r, 9, 0, "%s", k->first_function ? k->first_function : "?");
    }
}

static void put_edge(FILE *out, const struct tl_medge *e, const struct tl_env *env)
{
    fprintf(out, "\n  %s -> %s", e->from, e->to);
    if (e->thread != TL_NULL)
        fprintf(out, "  first by T%" PRId64, e->thread);
    if (e->threads != TL_NULL)
        fprintf(out, ", %s", e->threads > 1 ? "two or more threads" : "one thread");
    if (e->modes)
        fprintf(out, ", modes %s", e->modes);
    fprintf(out, "\n    %s acquired at:\n", e->to);
    tl_screen_put_stack(out, env, e->acquire_stack, "      ");
    fprintf(out, "    while %s was held since:\n", e->from);
    tl_screen_put_stack(out, env, e->held_stack, "      ");
}

static void detail(FILE *out, const struct tl_model *m, const struct tl_row *r,
                   const struct tl_env *env)
{
    const struct tl_mlock *k;
    struct tl_vec edges;
    char wait[32], max[32];

    if (r->ref >= m->locks.len)
        return;
    k = tl_vec_at(&m->locks, r->ref);
    fprintf(out, "%s %s", k->kind ? k->kind : "lock", k->label);
    if (k->name && k->addr != TL_NULL)
        fprintf(out, " (0x%" PRIx64 ")", (uint64_t)k->addr);
    fprintf(out, " of pid %" PRId64 "\n", k->pid);
    tl_fmt_wait(wait, sizeof(wait), k->wait_ns, env->utf8);
    tl_fmt_wait(max, sizeof(max), k->wait_max_ns, env->utf8);
    fprintf(out, "Acquisitions: %" PRId64 ", contentions: %" PRId64 "\n", k->acquisitions,
            k->contentions);
    fprintf(out, "Contended acquisitions waited %s in total, %s at most\n", wait, max);
    fputs("\nFirst seen", out);
    if (k->first_thread != TL_NULL)
        fprintf(out, " by T%" PRId64, k->first_thread);
    fputs(" at:\n", out);
    tl_screen_put_stack(out, env, k->first_stack, "  ");
    tl_vec_init(&edges, sizeof(struct tl_medge));
    if (tl_model_edges(env->db, k->proc, k->id, &edges) != 0) {
        fprintf(out, "\n(cannot read the edges: %s)\n", tl_db_error(env->db));
    } else {
        fprintf(out, "\nLock-order edges (%zu):\n", edges.len);
        for (size_t i = 0; i < edges.len; i++)
            put_edge(out, tl_vec_at(&edges, i), env);
        if (edges.len == 0)
            fputs("  none: no other lock was taken while holding it, nor it while "
                  "holding another\n", out);
    }
    tl_model_edges_free(&edges);
}

const struct tl_screen tl_screen_locks = {
    .name = "Locks",
    .cols = cols,
    .ncols = sizeof(cols) / sizeof(cols[0]),
    .sort_col = COL_WAIT,
    .invert = true,
    .empty = "no locks recorded",
    .fill = fill,
    .head = NULL,
    .detail = detail,
};
