/*
 * tui.c - the dashboard (tui.h). Sections: state, drawing, reading the
 * database, keys, main loop.
 *
 * The screen is: a header line (database, process and its status, paused),
 * the tab bar, the view's head lines (Overview only), the column titles, the
 * list, and a footer with the keys or the search/filter prompt. Enter
 * replaces head and list by a detail pane; `?` by the help.
 *
 * Following: every refresh interval (1 s by default, `+`/`-`) the loop asks
 * SQLite for PRAGMA data_version, which changes when another connection (the
 * agent) commits, and reloads the model only then. Reads are short
 * transactions on a read-only connection in WAL mode, so the agent is never
 * blocked. `Z` stops following.
 */
#include "tui.h"

#include <curses.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"
#include "panel.h"
#include "screen.h"
#include "xalloc.h"

#define MIN_COLS 40
#define MIN_LINES 10
#define KEY_ESC 27
#define TICK_MS 100

/* ---- state ------------------------------------------------------------ */

static const struct tl_screen *const screens[TL_SCREENS] = {
    &tl_screen_overview, &tl_screen_threads, &tl_screen_locks,
    &tl_screen_cycles,   &tl_screen_memory,  &tl_screen_findings,
};

static const int rates_ms[] = {250, 500, 1000, 2000, 5000, 10000};
#define N_RATES (int)(sizeof(rates_ms) / sizeof(rates_ms[0]))

enum mode { MODE_LIST, MODE_DETAIL, MODE_HELP };
enum input { INPUT_NONE, INPUT_SEARCH, INPUT_FILTER };

enum pair { PAIR_ERR = 1, PAIR_WARN, PAIR_INFO, PAIR_HEAD, PAIR_TAB, PAIR_MATCH };

struct tui {
    struct tl_db *db;                     /* read-only connection */
    const char *path;                     /* for the header */
    bool color;                           /* colour pairs are set up */
    bool utf8;                            /* the locale's codeset is UTF-8 */
    struct tl_model model;                /* the latest snapshot */
    bool have_model;                      /* model was loaded once */
    struct tl_panel panels[TL_SCREENS];   /* one list per view */
    int cur;                              /* current view */
    enum mode mode;                       /* list, detail or help */
    enum mode help_from;                  /* mode to go back to from help */
    enum input input;                     /* prompt being edited */
    struct tl_vec lines;                  /* char *: detail pane text */
    size_t dtop;                          /* first detail line shown */
    bool paused;                          /* Z: not following */
    int rate;                             /* index into rates_ms */
    long long data_version;               /* last PRAGMA data_version seen */
    struct timespec last_poll;            /* when it was asked */
    char status[256];                     /* transient message in the footer */
    int list_y, list_h;                   /* where the list is drawn, for the mouse */
    int tab_x[TL_SCREENS + 1];            /* tab bar column of each tab, for the mouse */
    bool quit;
};

static struct tl_env env_of(const struct tui *t)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (struct tl_env){.db = t->db, .utf8 = t->utf8,
                           .now_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec};
}

static struct tl_panel *panel(struct tui *t)
{
    return &t->panels[t->cur];
}

/* ---- drawing ---------------------------------------------------------- */

/* Display columns of UTF-8 text s (one per code point; others, one per byte). */
static int text_width(const struct tui *t, const char *s)
{
    int n = 0;

    for (; *s; s++) {
        if (!t->utf8 || ((unsigned char)*s & 0xc0) != 0x80)
            n++;
    }
    return n;
}

/*
 * Writes at most w display columns of s at (y, x), control bytes as '?' and
 * non-ASCII bytes as '?' outside a UTF-8 locale; pads with spaces to w when
 * pad. Returns the columns written.
 */
static int put(const struct tui *t, int y, int x, int w, const char *s, bool pad)
{
    char buf[2048];
    size_t n = 0;
    int cols = 0;

    if (w <= 0 || y < 0 || y >= LINES || x >= COLS)
        return 0;
    if (x + w > COLS)
        w = COLS - x;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p && n + 8 < sizeof(buf);) {
        size_t len = 1;

        if (*p >= 0x80 && t->utf8) {
            len = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 1;
            for (size_t k = 1; k < len; k++) {
                if ((p[k] & 0xc0) != 0x80)
                    len = 1;
            }
        }
        if (cols >= w)
            break;
        if (len == 1)
            buf[n++] = (*p < 0x20 || *p == 0x7f || (*p >= 0x80)) ? '?' : (char)*p;
        else
            memcpy(buf + n, p, len), n += len;
        p += len;
        cols++;
    }
    while (pad && cols < w && n + 1 < sizeof(buf))
        buf[n++] = ' ', cols++;
    buf[n] = '\0';
    mvaddstr(y, x, buf);
    return cols;
}

static attr_t sev_attr(const struct tui *t, enum tl_sev s)
{
    if (!t->color)
        return s == TL_SEV_ERR ? A_BOLD : A_NORMAL;
    switch (s) {
    case TL_SEV_ERR: return COLOR_PAIR(PAIR_ERR) | A_BOLD;
    case TL_SEV_WARN: return COLOR_PAIR(PAIR_WARN);
    case TL_SEV_INFO_: return COLOR_PAIR(PAIR_INFO);
    default: return A_NORMAL;
    }
}

static attr_t head_attr(const struct tui *t)
{
    return t->color ? COLOR_PAIR(PAIR_HEAD) : A_REVERSE;
}

/* The process the header describes: the overview's. */
static const struct tl_mproc *header_proc(const struct tui *t)
{
    return t->have_model ? tl_model_proc(&t->model, t->model.ov.proc) : NULL;
}

static void draw_header(struct tui *t)
{
    const struct tl_mproc *p = header_proc(t);
    struct tl_env env = env_of(t);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    if (!out)
        abort();
    fprintf(out, "threadlens-top  %s  ", t->path);
    if (p)
        tl_screen_put_process(out, p, &env);
    else
        fputs("no process yet", out);
    if (t->have_model && t->model.procs.len > 1)
        fprintf(out, "  (+%zu more)", t->model.procs.len - 1);
    if (t->paused)
        fputs("  [PAUSED]", out);
    else
        fprintf(out, "  [every %.2g s]", rates_ms[t->rate] / 1000.0);
    fclose(out);
    attron(head_attr(t));
    put(t, 0, 0, COLS, text, true);
    attroff(head_attr(t));
    free(text);
}

static void draw_tabs(struct tui *t)
{
    int x = 0;

    move(1, 0);
    clrtoeol();
    for (int i = 0; i < TL_SCREENS; i++) {
        char label[32];
        attr_t a = i == t->cur ? (t->color ? COLOR_PAIR(PAIR_TAB) | A_BOLD : A_REVERSE)
                               : A_NORMAL;

        snprintf(label, sizeof(label), " %d %s ", i + 1, screens[i]->name);
        t->tab_x[i] = x;
        attron(a);
        x += put(t, 1, x, COLS - x, label, false);
        attroff(a);
        x += put(t, 1, x, COLS - x, " ", false);
    }
    t->tab_x[TL_SCREENS] = x;
}

/* Splits text into lines (char *, owned) appended to v. */
static void split_lines(struct tl_vec *v, const char *text)
{
    while (text && *text) {
        const char *nl = strchr(text, '\n');
        size_t n = nl ? (size_t)(nl - text) : strlen(text);
        char *line = tl_xmalloc(n + 1);

        memcpy(line, text, n);
        line[n] = '\0';
        *(char **)tl_vec_push(v) = line;
        text += n + (nl ? 1 : 0);
    }
}

static void free_lines(struct tl_vec *v)
{
    for (size_t i = 0; i < v->len; i++)
        free(*(char **)tl_vec_at(v, i));
    v->len = 0;
}

/* Draws the view's head lines from y; returns the next free line. */
static int draw_head(struct tui *t, int y, int max_y)
{
    const struct tl_screen *s = screens[t->cur];
    struct tl_env env = env_of(t);
    struct tl_vec lines;
    char *text = NULL;
    size_t len = 0;
    FILE *out;

    if (!s->head || !t->have_model)
        return y;
    out = open_memstream(&text, &len);
    if (!out)
        abort();
    s->head(out, &t->model, &env);
    fclose(out);
    tl_vec_init(&lines, sizeof(char *));
    split_lines(&lines, text);
    free(text);
    for (size_t i = 0; i < lines.len && y < max_y; i++, y++)
        put(t, y, 0, COLS, *(char **)tl_vec_at(&lines, i), true);
    free_lines(&lines);
    tl_vec_free(&lines);
    return y;
}

/* Column widths for the current terminal width; the 0-width column takes the rest. */
static void widths(const struct tl_panel *p, int *w)
{
    int used = 0, flex = -1;

    for (size_t c = 0; c < p->ncols; c++) {
        w[c] = p->cols[c].width;
        if (w[c] == 0 && flex < 0)
            flex = (int)c;
        used += w[c] + 1;
    }
    if (flex >= 0)
        w[flex] = COLS - used > 10 ? COLS - used : 10;
}

static void draw_row(struct tui *t, int y, const struct tl_panel *p, const struct tl_row *r,
                     const int *w, attr_t a)
{
    int x = 0;

    attron(a);
    for (size_t c = 0; c < p->ncols && x < COLS; c++) {
        const char *cell = r->cells[c] ? r->cells[c] : "";

        if (p->cols[c].numeric) {
            int pad = w[c] - text_width(t, cell);

            if (pad > 0)
                x += put(t, y, x, pad, "", true);
            x += put(t, y, x, w[c] - (pad > 0 ? pad : 0), cell, true);
        } else {
            x += put(t, y, x, w[c], cell, true);
        }
        if (x < COLS)
            x += put(t, y, x, 1, " ", true);
    }
    if (x < COLS)
        put(t, y, x, COLS - x, "", true);
    attroff(a);
}

static void draw_titles(struct tui *t, int y, const struct tl_panel *p, const int *w)
{
    struct tl_row titles;

    memset(&titles, 0, sizeof(titles));
    for (size_t c = 0; c < p->ncols; c++) {
        const char *mark = (int)c == p->sort_col ? (p->invert ? "v" : "^") : "";

        if (asprintf(&titles.cells[c], "%s%s", p->cols[c].title, mark) < 0)
            titles.cells[c] = NULL;
    }
    draw_row(t, y, p, &titles, w, A_BOLD | (t->color ? COLOR_PAIR(PAIR_HEAD) : A_UNDERLINE));
    for (size_t c = 0; c < p->ncols; c++)
        free(titles.cells[c]);
}

static void draw_list(struct tui *t, int y, int bottom)
{
    struct tl_panel *p = panel(t);
    int w[TL_PANEL_COLS];

    widths(p, w);
    draw_titles(t, y++, p, w);
    t->list_y = y;
    t->list_h = bottom - y;
    tl_panel_scroll(p, t->list_h);
    if (p->view.len == 0) {
        put(t, y, 1, COLS - 1,
            p->rows.len ? "no row matches the filter (Esc clears it)" : screens[t->cur]->empty,
            true);
        return;
    }
    for (size_t i = p->top; i < p->view.len && y < bottom; i++, y++) {
        const struct tl_row *r = tl_panel_visible(p, i);
        attr_t a = sev_attr(t, r->sev);

        if (p->search[0] && tl_panel_row_matches(p, r, p->search))
            a |= A_UNDERLINE | (t->color ? COLOR_PAIR(PAIR_MATCH) : A_BOLD);
        if (i == p->sel)
            a = (a & ~A_COLOR) | A_REVERSE;
        draw_row(t, y, p, r, w, a);
    }
}

static void draw_detail(struct tui *t, int y, int bottom)
{
    size_t h = bottom > y ? (size_t)(bottom - y) : 0;

    if (t->lines.len > h && t->dtop > t->lines.len - h)
        t->dtop = t->lines.len - h;
    if (t->lines.len <= h)
        t->dtop = 0;
    for (size_t i = t->dtop; i < t->lines.len && y < bottom; i++, y++)
        put(t, y, 0, COLS, *(char **)tl_vec_at(&t->lines, i), true);
}

static const char *const help_lines[] = {
    "threadlens-top keys",
    "",
    "  Tab / Shift-Tab     next / previous view;  1-6  go to a view",
    "  Up Down, j k        move the selection",
    "  PgUp PgDn           move one page;  Home End (g G)  first / last row",
    "  Enter               open the selected row's details",
    "  Esc Backspace       back from details or help; in the list, clear search/filter",
    "  /                   search (incremental); n or F3: next match",
    "  \\                   filter: keep only the rows that contain the text",
    "  < > F6              choose the sort column;  I  invert the order",
    "  Z                   pause / resume following the database",
    "  + -                 refresh more / less often (250 ms .. 10 s)",
    "  ? h F1              this help",
    "  q F10               quit",
    "  mouse click         select a row or a tab",
    "",
    "Views: 1 Overview  2 Threads  3 Locks  4 Cycles  5 Memory  6 Findings",
    "Locks: sorted by WAIT, the total time contended acquisitions waited.",
    "NO_COLOR or --no-color turn colours off.",
    "",
    "Press any key to go back.",
};

static void draw_help(struct tui *t, int y, int bottom)
{
    for (size_t i = 0; i < sizeof(help_lines) / sizeof(help_lines[0]) && y < bottom; i++, y++)
        put(t, y, 0, COLS, help_lines[i], true);
}

static void draw_footer(struct tui *t)
{
    struct tl_panel *p = panel(t);
    char buf[3 * TL_PANEL_TEXT + 256];

    if (t->input == INPUT_SEARCH)
        snprintf(buf, sizeof(buf), "Search: %s_   (Enter keeps, Esc cancels, n next)", p->search);
    else if (t->input == INPUT_FILTER)
        snprintf(buf, sizeof(buf), "Filter: %s_   (Enter keeps, Esc clears)", p->filter);
    else if (t->status[0])
        snprintf(buf, sizeof(buf), "%.200s", t->status);
    else if (t->mode == MODE_DETAIL)
        snprintf(buf, sizeof(buf), "Esc back  Up/Down PgUp/PgDn scroll  ? help  q quit");
    else if (t->mode == MODE_HELP)
        snprintf(buf, sizeof(buf), "any key: back");
    else
        snprintf(buf, sizeof(buf), "%s%s%s%s%s%s%zu/%zu rows  ? help  Enter open  / search  "
                 "\\ filter  <> sort  Z pause  q quit",
                 p->search[0] ? "Search: " : "", p->search, p->search[0] ? " (n next)  " : "",
                 p->filter[0] ? "Filter: " : "", p->filter, p->filter[0] ? "  " : "",
                 p->view.len, p->rows.len);
    attron(head_attr(t));
    put(t, LINES - 1, 0, COLS, buf, true);
    attroff(head_attr(t));
}

static void draw(struct tui *t)
{
    int bottom = LINES - 1, y;

    erase();
    if (COLS < MIN_COLS || LINES < MIN_LINES) {
        char msg[96];

        snprintf(msg, sizeof(msg), "window too small (%dx%d); needs %dx%d; q quits", COLS, LINES,
                 MIN_COLS, MIN_LINES);
        put(t, 0, 0, COLS, msg, false);
        refresh();
        return;
    }
    draw_header(t);
    draw_tabs(t);
    y = 2;
    if (t->mode == MODE_HELP) {
        draw_help(t, y, bottom);
    } else if (t->mode == MODE_DETAIL) {
        draw_detail(t, y, bottom);
    } else {
        y = draw_head(t, y, bottom - 3);
        draw_list(t, y, bottom);
    }
    draw_footer(t);
    refresh();
}

/* ---- reading the database --------------------------------------------- */

static void refill(struct tui *t)
{
    struct tl_env env = env_of(t);

    for (int i = 0; i < TL_SCREENS; i++) {
        tl_panel_clear(&t->panels[i]);
        screens[i]->fill(&t->panels[i], &t->model, &env);
        tl_panel_update(&t->panels[i]);
    }
}

/* Reloads the model; on failure keeps the old one and says why in the footer. */
static void reload(struct tui *t)
{
    struct tl_model m;

    if (tl_model_load(t->db, &m) != 0) {
        snprintf(t->status, sizeof(t->status), "cannot read: %s", tl_db_error(t->db));
        tl_model_free(&m);
        return;
    }
    if (t->have_model)
        tl_model_free(&t->model);
    t->model = m;
    t->have_model = true;
    refill(t);
}

/* PRAGMA data_version: changes when another connection commits. -1 on error. */
static long long data_version(struct tui *t)
{
    sqlite3_stmt *st = tl_db_prepare(t->db, "PRAGMA data_version");
    long long v = -1;

    if (st && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static long ms_since(const struct timespec *a)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - a->tv_sec) * 1000 + (now.tv_nsec - a->tv_nsec) / 1000000;
}

/* Returns whether the screen should be redrawn (the model changed or time passed). */
static bool follow(struct tui *t)
{
    long long v;

    if (ms_since(&t->last_poll) < rates_ms[t->rate])
        return false;
    clock_gettime(CLOCK_MONOTONIC, &t->last_poll);
    if (t->paused)
        return false;
    v = data_version(t);
    if (v != t->data_version || v < 0) {
        t->data_version = v;
        reload(t);
    }
    return true; /* uptimes move on */
}

/* ---- keys ------------------------------------------------------------- */

static void open_detail(struct tui *t)
{
    const struct tl_row *r = tl_panel_selected(panel(t));
    struct tl_env env = env_of(t);
    char *text = NULL;
    size_t len = 0;
    FILE *out;

    if (!r || !t->have_model)
        return;
    out = open_memstream(&text, &len);
    if (!out)
        abort();
    screens[t->cur]->detail(out, &t->model, r, &env);
    fclose(out);
    free_lines(&t->lines);
    split_lines(&t->lines, text);
    free(text);
    t->dtop = 0;
    t->mode = MODE_DETAIL;
}

static void switch_view(struct tui *t, int i)
{
    t->cur = (i + TL_SCREENS) % TL_SCREENS;
    t->mode = MODE_LIST;
    t->input = INPUT_NONE;
}

static void sort_by(struct tui *t, int delta)
{
    struct tl_panel *p = panel(t);

    p->sort_col = (p->sort_col + delta + (int)p->ncols) % (int)p->ncols;
    tl_panel_update(p);
}

/* Edits the prompt's text with key ch. Returns whether ch was used. */
static bool edit_input(struct tui *t, int ch)
{
    struct tl_panel *p = panel(t);
    char *text = t->input == INPUT_SEARCH ? p->search : p->filter;
    size_t n = strlen(text);

    if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
        t->input = INPUT_NONE;
        return true;
    }
    if (ch == KEY_ESC) {
        text[0] = '\0';
        t->input = INPUT_NONE;
    } else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
        if (n > 0)
            text[n - 1] = '\0';
    } else if (ch >= 0x20 && ch < 0x7f && n + 1 < TL_PANEL_TEXT) {
        text[n] = (char)ch;
        text[n + 1] = '\0';
    } else {
        return ch == KEY_RESIZE || ch == ERR;
    }
    if (text == p->filter)
        tl_panel_update(p);
    else
        tl_panel_find(p, false);
    return true;
}

static void click(struct tui *t)
{
    MEVENT ev;

    if (getmouse(&ev) != OK)
        return;
    if (ev.y == 1) {
        for (int i = 0; i < TL_SCREENS; i++) {
            if (ev.x >= t->tab_x[i] && ev.x < t->tab_x[i + 1])
                switch_view(t, i);
        }
    } else if (t->mode == MODE_LIST && ev.y >= t->list_y && ev.y < t->list_y + t->list_h) {
        tl_panel_select(panel(t), panel(t)->top + (size_t)(ev.y - t->list_y));
    }
}

/* Keys that work in every mode. Returns whether ch was one. */
static bool global_key(struct tui *t, int ch)
{
    switch (ch) {
    case 'q': case KEY_F(10): t->quit = true; return true;
    case '\t': switch_view(t, t->cur + 1); return true;
    case KEY_BTAB: switch_view(t, t->cur - 1); return true;
    case '1': case '2': case '3': case '4': case '5': case '6':
        switch_view(t, ch - '1');
        return true;
    case '?': case 'h': case KEY_F(1):
        t->help_from = t->mode;
        t->mode = MODE_HELP;
        return true;
    case 'Z':
        t->paused = !t->paused;
        return true;
    case '+': if (t->rate > 0) t->rate--; return true;
    case '-': if (t->rate < N_RATES - 1) t->rate++; return true;
    case KEY_MOUSE: click(t); return true;
    default: return false;
    }
}

static void detail_key(struct tui *t, int ch)
{
    size_t page = LINES > 4 ? (size_t)LINES - 4 : 1;

    switch (ch) {
    case KEY_ESC: case KEY_BACKSPACE: case 127: case 8: case KEY_LEFT:
        t->mode = MODE_LIST;
        break;
    case KEY_UP: case 'k': if (t->dtop > 0) t->dtop--; break;
    case KEY_DOWN: case 'j': t->dtop++; break;
    case KEY_PPAGE: t->dtop = t->dtop > page ? t->dtop - page : 0; break;
    case KEY_NPAGE: case ' ': t->dtop += page; break;
    case KEY_HOME: case 'g': t->dtop = 0; break;
    case KEY_END: case 'G': t->dtop = t->lines.len; break;
    default: global_key(t, ch);
    }
}

static void list_key(struct tui *t, int ch)
{
    struct tl_panel *p = panel(t);
    long page = t->list_h > 1 ? t->list_h - 1 : 1;

    switch (ch) {
    case KEY_UP: case 'k': tl_panel_move(p, -1); break;
    case KEY_DOWN: case 'j': tl_panel_move(p, 1); break;
    case KEY_PPAGE: tl_panel_move(p, -page); break;
    case KEY_NPAGE: tl_panel_move(p, page); break;
    case KEY_HOME: case 'g': tl_panel_select(p, 0); break;
    case KEY_END: case 'G': tl_panel_select(p, p->view.len ? p->view.len - 1 : 0); break;
    case '\n': case '\r': case KEY_ENTER: case KEY_RIGHT: open_detail(t); break;
    case '/': p->search[0] = '\0'; t->input = INPUT_SEARCH; break;
    case '\\': t->input = INPUT_FILTER; break;
    case 'n': case KEY_F(3):
        if (!tl_panel_find(p, true) && p->search[0])
            snprintf(t->status, sizeof(t->status), "no row matches \"%s\"", p->search);
        break;
    case '<': sort_by(t, -1); break;
    case '>': case KEY_F(6): sort_by(t, 1); break;
    case 'I': p->invert = !p->invert; tl_panel_update(p); break;
    case KEY_ESC: case KEY_BACKSPACE: case 127: case 8:
        p->search[0] = '\0';
        p->filter[0] = '\0';
        tl_panel_update(p);
        break;
    default: global_key(t, ch);
    }
}

static void key(struct tui *t, int ch)
{
    t->status[0] = '\0';
    if (ch == KEY_RESIZE)
        return;
    if (t->input != INPUT_NONE && edit_input(t, ch))
        return;
    if (t->mode == MODE_HELP) {
        if (ch == 'q' || ch == KEY_F(10))
            t->quit = true;
        else
            t->mode = t->help_from == MODE_HELP ? MODE_LIST : t->help_from;
    } else if (t->mode == MODE_DETAIL) {
        detail_key(t, ch);
    } else {
        list_key(t, ch);
    }
}

/* ---- main loop -------------------------------------------------------- */

static void setup_colors(struct tui *t)
{
    if (!t->color || !has_colors()) {
        t->color = false;
        return;
    }
    start_color();
    use_default_colors();
    init_pair(PAIR_ERR, COLOR_RED, -1);
    init_pair(PAIR_WARN, COLOR_YELLOW, -1);
    init_pair(PAIR_INFO, COLOR_CYAN, -1);
    init_pair(PAIR_HEAD, COLOR_BLACK, COLOR_CYAN);
    init_pair(PAIR_TAB, COLOR_BLACK, COLOR_GREEN);
    init_pair(PAIR_MATCH, COLOR_MAGENTA, -1);
}

/*
 * Runs the dashboard until the user quits. Returns 0, or 2 when the terminal
 * cannot be set up (with a one-line message on stderr).
 */
int tl_tui_run(struct tl_db *db, const struct tl_tui_options *o)
{
    struct tui *t = tl_xcalloc(1, sizeof(*t));
    SCREEN *scr;
    const char *codeset;

    setlocale(LC_ALL, "");
    codeset = nl_langinfo(CODESET);
    t->utf8 = codeset && (strcmp(codeset, "UTF-8") == 0 || strcmp(codeset, "utf8") == 0);
    t->db = db;
    t->path = o->path;
    t->color = o->color;
    t->rate = 2;
    tl_vec_init(&t->lines, sizeof(char *));
    for (int i = 0; i < TL_SCREENS; i++)
        tl_panel_init(&t->panels[i], screens[i]->cols, screens[i]->ncols, screens[i]->sort_col,
                      screens[i]->invert);
    t->data_version = data_version(t);
    reload(t);
    if (!t->have_model) {
        fprintf(stderr, "threadlens-top: %s\n", tl_db_error(db));
        free(t);
        return 2;
    }
    scr = newterm(NULL, stdout, stdin);
    if (!scr) {
        fprintf(stderr, "threadlens-top: cannot set up the terminal (TERM=%s)\n",
                getenv("TERM") ? getenv("TERM") : "");
        tl_model_free(&t->model);
        free(t);
        return 2;
    }
    set_term(scr);
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    timeout(TICK_MS);
    mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED, NULL);
    mouseinterval(0);
    setup_colors(t);
    clock_gettime(CLOCK_MONOTONIC, &t->last_poll);
    draw(t);
    while (!t->quit) {
        int ch = getch();
        bool dirty = false;

        if (ch != ERR) {
            key(t, ch);
            dirty = true;
        }
        if (follow(t))
            dirty = true;
        if (dirty && !t->quit)
            draw(t);
    }
    endwin();
    delscreen(scr);
    for (int i = 0; i < TL_SCREENS; i++)
        tl_panel_free(&t->panels[i]);
    free_lines(&t->lines);
    tl_vec_free(&t->lines);
    tl_model_free(&t->model);
    free(t);
    return 0;
}
