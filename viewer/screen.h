/*
 * screen.h - the six views of threadlens-top. Each screen_<name>.c turns the
 * model into the rows of a panel (fill), may draw lines above the list
 * (head, the Overview's counters), and writes the text of the detail pane
 * for a row (detail). tui.c owns the panels and the terminal; screens only
 * produce text, so they never touch ncurses. The helpers below are shared
 * by the screens (screen.c). Single-threaded.
 */
#ifndef TL_SCREEN_H
#define TL_SCREEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "db.h"
#include "model.h"
#include "panel.h"

/* What a screen may use besides the model. */
struct tl_env {
    struct tl_db *db; /* for stacks and edges read when a detail opens */
    bool utf8;        /* sparklines in Unicode blocks */
    int64_t now_ns;   /* wall clock, for the uptime of running processes */
};

struct tl_screen {
    const char *name;             /* tab title */
    const struct tl_column *cols; /* panel columns */
    size_t ncols;
    int sort_col;                 /* default sort column */
    bool invert;                  /* default: descending */
    const char *empty;            /* shown when the list has no row */
    void (*fill)(struct tl_panel *p, const struct tl_model *m, const struct tl_env *env);
    void (*head)(FILE *out, const struct tl_model *m, const struct tl_env *env); /* or NULL */
    void (*detail)(FILE *out, const struct tl_model *m, const struct tl_row *r,
                   const struct tl_env *env);
};

#define TL_SCREENS 6
extern const struct tl_screen tl_screen_overview;
extern const struct tl_screen tl_screen_threads;
extern const struct tl_screen tl_screen_locks;
extern const struct tl_screen tl_screen_cycles;
extern const struct tl_screen tl_screen_memory;
extern const struct tl_screen tl_screen_findings;

/* The finding list, shared by the Overview and Findings screens (screen_findings.c). */
#define TL_FINDING_COLS 7
extern const struct tl_column tl_finding_cols[TL_FINDING_COLS];
void tl_findings_fill(struct tl_panel *p, const struct tl_model *m, const struct tl_env *env);
void tl_findings_detail(FILE *out, const struct tl_model *m, const struct tl_row *r,
                        const struct tl_env *env);

void tl_fmt_bytes(char *buf, size_t len, double bytes);
void tl_fmt_duration(char *buf, size_t len, int64_t ns);
void tl_fmt_wait(char *buf, size_t len, int64_t ns, bool utf8);
void tl_fmt_rate(char *buf, size_t len, double per_second);
enum tl_sev tl_screen_sev(const char *severity);
void tl_screen_put_frames(FILE *out, const struct tl_vec *frames, const char *indent);
void tl_screen_put_stack(FILE *out, const struct tl_env *env, int64_t stack, const char *indent);
void tl_screen_put_process(FILE *out, const struct tl_mproc *p, const struct tl_env *env);
int64_t tl_screen_row_id(int64_t proc, int64_t id);

#endif
