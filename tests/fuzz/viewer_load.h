/*
 * viewer_load.h - what threadlens-top does with a database file, for the
 * fuzz harnesses: open and check it (db.c), load the run (load.c), render
 * the report and the JSON to /dev/null, and load the dashboard's model
 * (model.c). Any outcome but a crash, a sanitizer report or a leak is fine.
 */
#ifndef TL_FUZZ_VIEWER_LOAD_H
#define TL_FUZZ_VIEWER_LOAD_H

/* Makes a temporary file name in path (size >= 32). Returns 0 or -1. */
int tl_fuzz_temp_path(char *path, const char *stem);
/* Removes the -wal, -shm and -journal files SQLite may have left next to path. */
void tl_fuzz_unlink_side_files(const char *path);
/* Loads and renders path the ways threadlens-top does. Can't fail. */
void tl_fuzz_view(const char *path);

#endif
