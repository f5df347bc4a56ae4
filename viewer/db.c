/*
 * db.c - open a threadlens database read-only and check what it is. The checks
 * run in this order so that each failure names the real problem: the file
 * exists and is readable (access, stat), it is SQLite (PRAGMA user_version
 * fails with SQLITE_NOTADB otherwise), it was written by threadlens (meta
 * key 'app'), and its schema version is the one we read.
 */
#include "db.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "schema.h"
#include "xalloc.h"

struct tl_db {
    sqlite3 *conn;   /* read-only connection */
    char *path;      /* file name, as given, for messages */
    char err[512];   /* message of the last error */
};

static int set_error(struct tl_db *db, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Formats the message of an error and returns rc, a negative errno. */
static int set_error(struct tl_db *db, int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(db->err, sizeof(db->err), fmt, ap);
    va_end(ap);
    return rc;
}

/*
 * Records the connection's last SQLite error and returns -EIO. A file that is
 * not SQLite at all gets its own wording.
 */
int tl_db_fail(struct tl_db *db)
{
    if (sqlite3_errcode(db->conn) == SQLITE_NOTADB)
        return set_error(db, -EIO, "%s: not a SQLite database", db->path);
    return set_error(db, -EIO, "%s: %s", db->path, sqlite3_errmsg(db->conn));
}

/* Returns the message of the last error, without the program prefix. */
const char *tl_db_error(const struct tl_db *db)
{
    return db->err;
}

/*
 * Returns a malloc'ed "file:PATH?mode=ro" URI. Characters that mean something
 * in a URI ('?', '#', '%') and anything unusual are percent-encoded.
 */
static char *ro_uri(const char *path)
{
    static const char safe[] = "/-._~+,;=:@!$&'()*";
    char *uri = tl_xmalloc(strlen(path) * 3 + sizeof("file:?mode=ro"));
    char *p = uri + sprintf(uri, "file:");

    for (const unsigned char *s = (const unsigned char *)path; *s; s++) {
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
            strchr(safe, *s))
            *p++ = (char)*s;
        else
            p += sprintf(p, "%%%02X", *s);
    }
    strcpy(p, "?mode=ro");
    return uri;
}

/* Checks that path names a readable regular file, for a clear message. */
static int check_file(struct tl_db *db, const char *path)
{
    struct stat st;

    if (access(path, R_OK) != 0 || stat(path, &st) != 0)
        return set_error(db, -errno, "cannot open %s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return set_error(db, -EISDIR, "cannot open %s: %s", path, strerror(EISDIR));
    return 0;
}

/* Runs a query of one integer or text cell; text is copied into buf. */
static int query_one(struct tl_db *db, const char *sql, long long *num, char *buf, size_t len)
{
    sqlite3_stmt *st = tl_db_prepare(db, sql);
    int rc;

    if (!st)
        return -EIO;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *text = sqlite3_column_text(st, 0);

        if (num)
            *num = sqlite3_column_int64(st, 0);
        if (buf)
            snprintf(buf, len, "%s", text ? (const char *)text : "");
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? -ENOENT : tl_db_fail(db);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Checks the meta 'app' row and the schema version. Returns 0 or < 0. */
static int check_schema(struct tl_db *db)
{
    long long version = 0;
    char app[64];
    int rc;

    if (query_one(db, "PRAGMA user_version", &version, NULL, 0) != 0)
        return -EIO;
    rc = query_one(db, "SELECT value FROM meta WHERE key = 'app'", NULL, app, sizeof(app));
    if (rc == -EIO && sqlite3_errcode(db->conn) != SQLITE_ERROR)
        return rc;
    if (rc != 0)
        return set_error(db, -EPROTO, "%s: not a threadlens database (no 'app' row in meta)",
                         db->path);
    if (strcmp(app, TL_SCHEMA_APP) != 0)
        return set_error(db, -EPROTO, "%s: not a threadlens database (meta app is '%s')",
                         db->path, app);
    if (version > TL_SCHEMA_VERSION)
        return set_error(db, -EPROTO,
                         "%s: schema version %lld is newer than this threadlens-top reads (%d); "
                         "upgrade threadlens-top", db->path, version, TL_SCHEMA_VERSION);
    if (version >= 1 && version < TL_SCHEMA_VERSION)
        return set_error(db, -EPROTO,
                         "%s: schema version %lld is older than this threadlens-top reads (%d); "
                         "read it with the threadlens-top of the release that wrote it",
                         db->path, version, TL_SCHEMA_VERSION);
    if (version != TL_SCHEMA_VERSION)
        return set_error(db, -EPROTO, "%s: unsupported schema version %lld (expected %d)",
                         db->path, version, TL_SCHEMA_VERSION);
    return 0;
}

static int connect(struct tl_db *db)
{
    char *uri = ro_uri(db->path);
    int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_URI;
    int rc = sqlite3_open_v2(uri, &db->conn, flags, NULL);

    free(uri);
    if (rc != SQLITE_OK)
        return db->conn ? tl_db_fail(db) : set_error(db, -ENOMEM, "out of memory");
    sqlite3_busy_timeout(db->conn, TL_DB_BUSY_MS);
    return 0;
}

/*
 * Opens the threadlens database at path read-only and checks it. Returns 0 and
 * a handle in *out that the caller closes with tl_db_close(), or a negative
 * errno with a one-line message in err (-ENOENT and friends: the file;
 * -EIO: SQLite; -EPROTO: not a threadlens database of our version).
 */
int tl_db_open(const char *path, struct tl_db **out, char *err, size_t errlen)
{
    struct tl_db *db = tl_xcalloc(1, sizeof(*db));
    int rc;

    db->path = tl_xstrdup(path);
    rc = check_file(db, path);
    if (rc == 0)
        rc = connect(db);
    if (rc == 0)
        rc = check_schema(db);
    if (rc != 0) {
        snprintf(err, errlen, "%s", db->err);
        tl_db_close(db);
        return rc;
    }
    *out = db;
    return 0;
}

/* Closes the connection and frees the handle. NULL is fine. Can't fail. */
void tl_db_close(struct tl_db *db)
{
    if (!db)
        return;
    sqlite3_close(db->conn);
    free(db->path);
    free(db);
}

static int exec(struct tl_db *db, const char *sql)
{
    if (sqlite3_exec(db->conn, sql, NULL, NULL, NULL) != SQLITE_OK)
        return tl_db_fail(db);
    return 0;
}

/*
 * Starts a read transaction: everything read until tl_db_end() comes from one
 * snapshot, so a finding and its items are consistent while the agent writes.
 * Keep it short, a WAL reader holds back checkpoints. Returns 0 or -EIO.
 */
int tl_db_begin(struct tl_db *db)
{
    return exec(db, "BEGIN DEFERRED");
}

/* Ends the read transaction. Returns 0 or -EIO. */
int tl_db_end(struct tl_db *db)
{
    return exec(db, "COMMIT");
}

/* Returns a prepared statement the caller finalizes, or NULL (see tl_db_error). */
sqlite3_stmt *tl_db_prepare(struct tl_db *db, const char *sql)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(db->conn, sql, -1, &st, NULL) != SQLITE_OK) {
        tl_db_fail(db);
        return NULL;
    }
    return st;
}
