/*
 * dbfile.h - notices when the database file is deleted or replaced under a
 * running agent. SQLite keeps writing to the inode it opened, so without this
 * a run whose file was removed (or renamed over) records into a file nobody
 * can read, silently. The collector remembers the file right after opening
 * it and checks it once per tick, before its transaction; a change means
 * "say so in one line and stop recording" (DESIGN.md, the agent's rule 1).
 *
 * Called from the collector thread only (and at open, before it runs); the
 * state is that thread's. Costs one stat(2) per check, never on a hot path.
 */
#ifndef TL_DBFILE_H
#define TL_DBFILE_H

/* Remembers the file `path` names now. Returns 0, or -errno when stat fails. */
int tl_dbfile_remember(const char *path);
/*
 * Returns NULL while the remembered path still names the remembered file
 * (or nothing was remembered), else what happened: "deleted" or "replaced".
 */
const char *tl_dbfile_check(void);

#endif
