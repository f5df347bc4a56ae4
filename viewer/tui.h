/*
 * tui.h - threadlens-top's interactive dashboard: six views over one
 * database, following it while the agent writes. Called once from main()
 * with a database already opened and checked (db.h), so a bad file is
 * reported before the terminal is touched. Owns the terminal (ncursesw)
 * until it returns; single-threaded.
 */
#ifndef TL_TUI_H
#define TL_TUI_H

#include <stdbool.h>

#include "db.h"

struct tl_tui_options {
    const char *path; /* database file, for the header */
    bool color;       /* false: --no-color or NO_COLOR */
};

int tl_tui_run(struct tl_db *db, const struct tl_tui_options *o);

#endif
