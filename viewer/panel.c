/*
 * panel.c - the list behind every view (panel.h): rows, filter, sort,
 * selection and search. Drawing lives in tui.c, which reads the view.
 */
#include "panel.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xalloc.h"

/* Makes p an empty panel over cols, sorted by sort_col. Can't fail. */
void tl_panel_init(struct tl_panel *p, const struct tl_column *cols, size_t ncols, int sort_col,
                   bool invert)
{
    memset(p, 0, sizeof(*p));
    p->cols = cols;
    p->ncols = ncols < TL_PANEL_COLS ? ncols : TL_PANEL_COLS;
    p->sort_col = sort_col;
    p->invert = invert;
    tl_vec_init(&p->rows, sizeof(struct tl_row));
    tl_vec_init(&p->view, sizeof(size_t));
}

/*
 * Drops every row, remembering the selected row's id so that the next
 * tl_panel_update() selects the same row again. Can't fail.
 */
void tl_panel_clear(struct tl_panel *p)
{
    const struct tl_row *r = tl_panel_selected(p);

    if (r) {
        p->sel_id = r->id;
        p->has_sel = true;
    }
    for (size_t i = 0; i < p->rows.len; i++) {
        struct tl_row *row = tl_vec_at(&p->rows, i);

        for (size_t c = 0; c < TL_PANEL_COLS; c++)
            free(row->cells[c]);
    }
    p->rows.len = 0;
    p->view.len = 0;
}

void tl_panel_free(struct tl_panel *p)
{
    tl_panel_clear(p);
    tl_vec_free(&p->rows);
    tl_vec_free(&p->view);
}

/* Appends an empty row; its pointer is valid until the next add. Can't fail. */
struct tl_row *tl_panel_add(struct tl_panel *p, int64_t id, size_t ref)
{
    struct tl_row *r = tl_vec_push(&p->rows);

    r->id = id;
    r->ref = ref;
    return r;
}

/* Sets cell col of r to the formatted text (control bytes as '?') and its sort key. */
void tl_panel_cell(struct tl_row *r, size_t col, double key, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;

    if (col >= TL_PANEL_COLS)
        return;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    if (!s)
        s = tl_xstrdup("");
    for (char *c = s; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    }
    free(r->cells[col]);
    r->cells[col] = s;
    r->keys[col] = key;
}

/* Whether any cell of r contains text, ignoring case. Empty text matches. */
bool tl_panel_row_matches(const struct tl_panel *p, const struct tl_row *r, const char *text)
{
    if (!text[0])
        return true;
    for (size_t c = 0; c < p->ncols; c++) {
        if (r->cells[c] && strcasestr(r->cells[c], text))
            return true;
    }
    return false;
}

static const struct tl_panel *sorting; /* qsort context; single-threaded */

static int cmp_rows(const void *a, const void *b)
{
    size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
    const struct tl_row *ra = tl_vec_at(&sorting->rows, ia);
    const struct tl_row *rb = tl_vec_at(&sorting->rows, ib);
    int c = sorting->sort_col, d = 0;

    if (sorting->cols[c].numeric)
        d = ra->keys[c] < rb->keys[c] ? -1 : ra->keys[c] > rb->keys[c] ? 1 : 0;
    else
        d = strcasecmp(ra->cells[c] ? ra->cells[c] : "", rb->cells[c] ? rb->cells[c] : "");
    if (sorting->invert)
        d = -d;
    if (d == 0) /* stable: fill order breaks ties */
        d = ia < ib ? -1 : ia > ib ? 1 : 0;
    return d;
}

/*
 * Rebuilds the view after rows, filter or sort changed, and puts the
 * selection back on the row with the remembered id (or clamps it).
 */
void tl_panel_update(struct tl_panel *p)
{
    p->view.len = 0;
    for (size_t i = 0; i < p->rows.len; i++) {
        if (tl_panel_row_matches(p, tl_vec_at(&p->rows, i), p->filter))
            *(size_t *)tl_vec_push(&p->view) = i;
    }
    if (p->sort_col >= 0 && (size_t)p->sort_col < p->ncols && p->view.len > 1) {
        sorting = p;
        qsort(p->view.data, p->view.len, sizeof(size_t), cmp_rows);
    }
    if (p->has_sel) {
        for (size_t i = 0; i < p->view.len; i++) {
            if (tl_panel_visible(p, i)->id == p->sel_id) {
                p->sel = i;
                return;
            }
        }
    }
    if (p->sel >= p->view.len)
        p->sel = p->view.len ? p->view.len - 1 : 0;
    if (p->view.len) {
        p->sel_id = tl_panel_visible(p, p->sel)->id;
        p->has_sel = true;
    }
}

/* Selects view index i (clamped) and remembers its id. */
void tl_panel_select(struct tl_panel *p, size_t i)
{
    if (p->view.len == 0)
        return;
    p->sel = i < p->view.len ? i : p->view.len - 1;
    p->sel_id = tl_panel_visible(p, p->sel)->id;
    p->has_sel = true;
}

/* Moves the selection by delta rows, stopping at either end. */
void tl_panel_move(struct tl_panel *p, long delta)
{
    long i = (long)p->sel + delta;

    if (p->view.len == 0)
        return;
    if (i < 0)
        i = 0;
    tl_panel_select(p, (size_t)i);
}

/*
 * Selects the first row at or after the selection (after it when next) that
 * matches the search text, wrapping around. Returns whether one matched.
 */
bool tl_panel_find(struct tl_panel *p, bool next)
{
    size_t n = p->view.len;

    if (!p->search[0] || n == 0)
        return false;
    for (size_t k = next ? 1 : 0; k < n + (next ? 1 : 0); k++) {
        size_t i = (p->sel + k) % n;

        if (tl_panel_row_matches(p, tl_panel_visible(p, i), p->search)) {
            tl_panel_select(p, i);
            return true;
        }
    }
    return false;
}

/* The selected row, or NULL when the view is empty. */
const struct tl_row *tl_panel_selected(const struct tl_panel *p)
{
    return p->sel < p->view.len ? tl_panel_visible(p, p->sel) : NULL;
}

/* Row i of the view (i < view.len). */
const struct tl_row *tl_panel_visible(const struct tl_panel *p, size_t i)
{
    return tl_vec_at(&p->rows, *(const size_t *)tl_vec_at(&p->view, i));
}

/* Adjusts the scroll offset so the selection is inside a window of height rows. */
void tl_panel_scroll(struct tl_panel *p, int height)
{
    size_t h = height > 0 ? (size_t)height : 1;

    if (p->sel < p->top)
        p->top = p->sel;
    if (p->sel >= p->top + h)
        p->top = p->sel - h + 1;
    if (p->view.len <= h)
        p->top = 0;
    else if (p->top > p->view.len - h)
        p->top = p->view.len - h;
}
