/*
 * panel.h - a scrollable, sortable, filterable list of rows: the body of each
 * threadlens-top view. A screen (screen.h) fills the rows from the model; the
 * panel keeps the selection, scroll offset, sort column, filter and search
 * text across refreshes (the selection follows the row's id). Drawing uses
 * ncurses; everything else is plain data, so it is unit-testable.
 *
 * Cells are copied and sanitised (control bytes become '?'). The panel owns
 * its rows; tl_panel_free() releases them. Single-threaded (the UI thread).
 */
#ifndef TL_PANEL_H
#define TL_PANEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vec.h"

#define TL_PANEL_COLS 10  /* most columns a view has */
#define TL_PANEL_TEXT 128 /* longest filter or search text */

struct tl_column {
    const char *title; /* header text */
    int width;         /* columns; 0 takes what the others leave */
    bool numeric;      /* sorted by the cell's key, right-aligned */
};

/* Severity of a row, for its colour. */
enum tl_sev { TL_SEV_NONE, TL_SEV_INFO_, TL_SEV_WARN, TL_SEV_ERR };

struct tl_row {
    char *cells[TL_PANEL_COLS];  /* text of each column, owned */
    double keys[TL_PANEL_COLS];  /* numeric sort keys */
    enum tl_sev sev;             /* colour */
    int64_t id;                  /* stable identity, to keep the selection */
    size_t ref;                  /* the screen's index into its model data */
};

struct tl_panel {
    const struct tl_column *cols; /* the view's columns */
    size_t ncols;
    struct tl_vec rows;           /* struct tl_row, in fill order */
    struct tl_vec view;           /* size_t into rows: filtered, then sorted */
    size_t sel;                   /* selected index into view */
    size_t top;                   /* first view index drawn */
    int sort_col;                 /* column sorted by */
    bool invert;                  /* descending instead of ascending */
    char filter[TL_PANEL_TEXT];   /* keep rows containing it (case-insensitive) */
    char search[TL_PANEL_TEXT];   /* highlight and jump to rows containing it */
    int64_t sel_id;               /* id of the selected row, kept across refills */
    bool has_sel;                 /* sel_id is set */
};

void tl_panel_init(struct tl_panel *p, const struct tl_column *cols, size_t ncols, int sort_col,
                   bool invert);
void tl_panel_free(struct tl_panel *p);
void tl_panel_clear(struct tl_panel *p);
struct tl_row *tl_panel_add(struct tl_panel *p, int64_t id, size_t ref);
void tl_panel_cell(struct tl_row *r, size_t col, double key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void tl_panel_update(struct tl_panel *p);
void tl_panel_move(struct tl_panel *p, long delta);
void tl_panel_select(struct tl_panel *p, size_t view_index);
bool tl_panel_row_matches(const struct tl_panel *p, const struct tl_row *r, const char *text);
bool tl_panel_find(struct tl_panel *p, bool next);
const struct tl_row *tl_panel_selected(const struct tl_panel *p);
const struct tl_row *tl_panel_visible(const struct tl_panel *p, size_t view_index);
void tl_panel_scroll(struct tl_panel *p, int height);

#endif
