/*
 * db.h - threadlens-top's connection to a threadlens database. Opens the file
 * read-only (a "file:PATH?mode=ro" URI), with a busy timeout because the agent
 * may be writing in WAL mode at the same time, and checks that it is a
 * threadlens database of the schema version this viewer reads (schema.h). The
 * viewer never writes: reads happen in short read transactions between
 * tl_db_begin() and tl_db_end().
 *
 * Errors are negative errno values; the message for the last one, one line
 * without the "threadlens-top: " prefix, is kept in the handle (tl_db_error())
 * or, for tl_db_open(), copied into the caller's buffer. Single-threaded: one
 * handle per thread.
 */
#ifndef TL_DB_H
#define TL_DB_H

#include <stddef.h>
#include <sqlite3.h>

#define TL_DB_BUSY_MS 5000 /* how long a read waits for the agent's lock */

struct tl_db; /* opaque; owns the sqlite3 connection */

int tl_db_open(const char *path, struct tl_db **out, char *err, size_t errlen);
void tl_db_close(struct tl_db *db);
int tl_db_begin(struct tl_db *db);
int tl_db_end(struct tl_db *db);
sqlite3_stmt *tl_db_prepare(struct tl_db *db, const char *sql);
int tl_db_fail(struct tl_db *db);
const char *tl_db_error(const struct tl_db *db);

#endif
