/*
 * screen_memory.c - view 5: allocation sites with their estimated live
 * bytes, growth rate (least-squares slope of the last site samples) and a
 * sparkline of their history; sorted by live bytes, or by growth with `<`
 * `>`. Enter shows the allocation stack.
 */
#include "screen.h"

#include <inttypes.h>

#include "spark.h"

#define SPARK_WIDTH 20

static const struct tl_column cols[] = {
    {"PID", 7, true},          {"SITE", 5, true},     {"FUNCTION", 24, false},
    {"LIVE", 11, true},        {"COUNT", 8, true},    {"GROWTH/s", 12, true},
    {"HISTORY", 0, false},
};

static void fill(struct tl_panel *p, const struct tl_model *m, const struct tl_env *env)
{
    for (size_t i = 0; i < m->sites.len; i++) {
        const struct tl_msite *s = tl_vec_at(&m->sites, i);
        struct tl_row *r = tl_panel_add(p, tl_screen_row_id(s->proc, s->id), i);
        char live[32], growth[32], spark[SPARK_WIDTH * 4 + 1];

        tl_fmt_bytes(live, sizeof(live), (double)s->live_bytes);
        tl_fmt_bytes(growth, sizeof(growth), s->growth);
        tl_spark(spark, sizeof(spark), &s->hist, SPARK_WIDTH, env->utf8);
        tl_panel_cell(r, 0, (double)s->pid, "%" PRId64, s->pid);
        tl_panel_cell(r, 1, (double)s->id, "%" PRId64, s->id);
        tl_panel_cell(r, 2, 0, "%s", s->function ? s->function : "?");
        tl_panel_cell(r, 3, (double)s->live_bytes, "%s", live);
        tl_panel_cell(r, 4, (double)s->live_count, "%" PRId64, s->live_count);
        tl_panel_cell(r, 5, s->growth, "%s", growth);
        tl_panel_cell(r, 6, 0, "%s", spark);
    }
}

static void detail(FILE *out, const struct tl_model *m, const struct tl_row *r,
                   const struct tl_env *env)
{
    const struct tl_msite *s;
    char live[32], growth[32], spark[TL_MODEL_HISTORY * 4 + 1];

    if (r->ref >= m->sites.len)
        return;
    s = tl_vec_at(&m->sites, r->ref);
    tl_fmt_bytes(live, sizeof(live), (double)s->live_bytes);
    tl_fmt_bytes(growth, sizeof(growth), s->growth);
    tl_spark(spark, sizeof(spark), &s->hist, TL_MODEL_HISTORY, env->utf8);
    fprintf(out, "Allocation site %" PRId64 " in %s, pid %" PRId64 "\n", s->id,
            s->function ? s->function : "?", s->pid);
    fprintf(out, "Live: %s in %" PRId64 " blocks (estimated from samples)\n", live,
            s->live_count);
    fprintf(out, "Growth: %s per second over the last %zu samples\n", growth, s->hist.n);
    fprintf(out, "History: %s\n\nAllocated at:\n", spark);
    tl_screen_put_stack(out, env, s->stack, "  ");
}

const struct tl_screen tl_screen_memory = {
    .name = "Memory",
    .cols = cols,
    .ncols = sizeof(cols) / sizeof(cols[0]),
    .sort_col = 3,
    .invert = true,
    .empty = "no allocation sites sampled",
    .fill = fill,
    .head = NULL,
    .detail = detail,
};
