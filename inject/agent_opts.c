/*
 * agent_opts.c - parse --db and -o, name and prepare the database, and
 * write the agent's option string, for both `run` and `attach`.
 */
#include "agent_opts.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Allocate p's option list for at most argc entries. The process exits or
 * execs soon, so it is not freed. Returns 0, or TL_EXIT_USAGE after a message.
 */
int tl_agent_args_init(struct tl_agent_args *p, int argc)
{
    memset(p, 0, sizeof(*p));
    p->azOpt = calloc((size_t)argc + 1, sizeof(*p->azOpt));
    if (p->azOpt == NULL) {
        perror("threadlens");
        return TL_EXIT_USAGE;
    }
    return 0;
}

/*
 * Check one -o argument. Returns 0 when it is key=value with a non-empty key
 * and no ':' anywhere; otherwise prints why and returns TL_EXIT_USAGE.
 */
static int opt_check(const char *zOpt)
{
    const char *zEq = strchr(zOpt, '=');
    if (zEq == NULL || zEq == zOpt) {
        fprintf(stderr, "threadlens: bad option '%s': expected key=value with a non-empty key\n",
                zOpt);
        return TL_EXIT_USAGE;
    }
    if (strchr(zOpt, ':') != NULL) {
        fprintf(stderr,
                "threadlens: bad option '%s': keys and values cannot contain ':' "
                "(it separates options in THREADLENS_OPTIONS)\n",
                zOpt);
        return TL_EXIT_USAGE;
    }
    return 0;
}

/* Record --db's value; an empty path is a usage error. */
static int db_take(struct tl_agent_args *p, const char *zDb)
{
    if (zDb[0] == '\0') {
        fprintf(stderr, "threadlens: the database path is empty\n");
        return TL_EXIT_USAGE;
    }
    p->zDb = zDb;
    return 1;
}

/* Record one -o; db=FILE is the same as --db (made absolute, old files removed). */
static int opt_take(struct tl_agent_args *p, const char *zOpt)
{
    int rc = opt_check(zOpt);
    if (rc != 0) {
        return rc;
    }
    if (strncmp(zOpt, "db=", 3) == 0) {
        return db_take(p, zOpt + 3);
    }
    p->azOpt[p->nOpt++] = zOpt;
    return 1;
}

/*
 * Consume argv[*pI] (and its argument) when it is --db FILE, --db=FILE,
 * -o key=value or -okey=value, advancing *pI. Returns 1 when consumed, 0
 * when argv[*pI] is something else, TL_EXIT_USAGE after a message.
 */
int tl_agent_args_take(struct tl_agent_args *p, int argc, char **argv, int *pI)
{
    const char *zArg = argv[*pI];
    if (strcmp(zArg, "--db") == 0 || strcmp(zArg, "-o") == 0) {
        if (*pI + 1 >= argc) {
            fprintf(stderr, "threadlens: %s needs an argument\n", zArg);
            return TL_EXIT_USAGE;
        }
        const char *zVal = argv[*pI + 1];
        *pI += 2;
        return zArg[1] == 'o' ? opt_take(p, zVal) : db_take(p, zVal);
    }
    if (strncmp(zArg, "--db=", 5) == 0) {
        (*pI)++;
        return db_take(p, zArg + 5);
    }
    if (strncmp(zArg, "-o", 2) == 0) {
        (*pI)++;
        return opt_take(p, zArg + 2);
    }
    return 0;
}

/* The default database name: threadlens-PROG-PID.db (PROG's base name). Can't fail. */
void tl_agent_db_default(char *zOut, size_t nOut, const char *zProg, long pid)
{
    const char *zSlash = strrchr(zProg, '/');
    const char *zBase = zSlash != NULL ? zSlash + 1 : zProg;
    snprintf(zOut, nOut, "threadlens-%.200s-%ld.db", zBase, pid);
}

/*
 * Turn zDb into an absolute path in zOut: realpath of its directory, then its
 * last component (which need not exist yet). Returns 0, or TL_EXIT_USAGE
 * after printing why.
 */
int tl_agent_db_absolute(const char *zDb, char *zOut, size_t nOut)
{
    char zDir[PATH_MAX];
    const char *zName = zDb;
    const char *zSlash = strrchr(zDb, '/');
    if (zSlash == NULL) {
        snprintf(zDir, sizeof(zDir), ".");
    } else {
        zName = zSlash + 1;
        int n = zSlash == zDb ? 1 : (int)(zSlash - zDb);
        if (n >= (int)sizeof(zDir)) {
            fprintf(stderr, "threadlens: database path too long: %s\n", zDb);
            return TL_EXIT_USAGE;
        }
        memcpy(zDir, zDb, (size_t)n);
        zDir[n] = '\0';
    }
    if (zName[0] == '\0' || strcmp(zName, ".") == 0 || strcmp(zName, "..") == 0) {
        fprintf(stderr, "threadlens: database path names a directory, not a file: %s\n", zDb);
        return TL_EXIT_USAGE;
    }
    char zReal[PATH_MAX];
    if (realpath(zDir, zReal) == NULL) {
        fprintf(stderr, "threadlens: cannot use database %s: %s: %s\n", zDb, zDir,
                strerror(errno));
        return TL_EXIT_USAGE;
    }
    const char *zSep = strcmp(zReal, "/") == 0 ? "" : "/";
    int w = snprintf(zOut, nOut, "%s%s%s", zReal, zSep, zName);
    if (w < 0 || (size_t)w >= nOut) {
        fprintf(stderr, "threadlens: database path too long: %s\n", zDb);
        return TL_EXIT_USAGE;
    }
    if (strchr(zOut, ':') != NULL) {
        fprintf(stderr,
                "threadlens: database path %s contains ':', which THREADLENS_OPTIONS "
                "cannot carry; choose another --db\n",
                zOut);
        return TL_EXIT_USAGE;
    }
    return 0;
}

/*
 * Remove zDb and its WAL and shared-memory files, so recording starts a
 * fresh database. Missing files are fine. Returns 0, or TL_EXIT_USAGE after
 * printing which file could not go.
 */
int tl_agent_db_remove_old(const char *zDb)
{
    static const char *const azSuffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof(azSuffix) / sizeof(azSuffix[0]); i++) {
        char zFile[PATH_MAX + 8];
        snprintf(zFile, sizeof(zFile), "%s%s", zDb, azSuffix[i]);
        /* A read-only filesystem says EROFS even for a file that is not there. */
        if (unlink(zFile) != 0 && errno != ENOENT && access(zFile, F_OK) == 0) {
            fprintf(stderr, "threadlens: cannot remove old database file %s: %s\n", zFile,
                    strerror(errno));
            return TL_EXIT_USAGE;
        }
    }
    return 0;
}

/*
 * Write the agent options: our inherited THREADLENS_OPTIONS, then db=, then
 * each -o, so that ours win (the agent lets a later key override an earlier
 * one). Can't fail (a memory stream reports errors at fclose).
 */
void tl_agent_opts_write(FILE *pStr, const char *zDbAbs, const struct tl_agent_args *p)
{
    const char *zOld = getenv("THREADLENS_OPTIONS");
    if (zOld != NULL) {
        size_t n = strlen(zOld);
        while (n > 0 && zOld[n - 1] == ':') {
            n--; /* no empty entry between the old options and ours */
        }
        if (n > 0) {
            fprintf(pStr, "%.*s:", (int)n, zOld);
        }
    }
    /* The agent also splits on ',' and white space; a quoted value keeps them. */
    if (strpbrk(zDbAbs, ", \t\n") != NULL) {
        fprintf(pStr, "db=\"%s\"", zDbAbs);
    } else {
        fprintf(pStr, "db=%s", zDbAbs);
    }
    for (int i = 0; i < p->nOpt; i++) {
        fprintf(pStr, ":%s", p->azOpt[i]);
    }
}
