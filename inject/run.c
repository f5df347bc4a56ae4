/*
 * run.c - the `run` subcommand. Order of work: parse and validate every
 * argument (usage errors exit 2 before anything changes), resolve PROG the way
 * execvp will, skip the agent for static executables, find the agent, make
 * the database path absolute and remove any old file, set the environment,
 * exec. Runs in the launcher's only thread.
 */
#include "run.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_path.h"
#include "elf_check.h"

#define TL_EXIT_USAGE 2
#define TL_EXIT_NOEXEC 126 /* found but could not be run, as in sh */
#define TL_EXIT_NOTFOUND 127

/* What the command line asked for. Pointers point into argv. */
struct tl_run_args {
    const char *zDb;    /* --db FILE or -o db=FILE; NULL: default name */
    const char **azOpt; /* -o key=value, in order, db= excluded */
    int nOpt;
    char **azProg;      /* PROG ARGS..., NULL-terminated (argv's tail) */
};

void tl_run_usage(FILE *pOut)
{
    fprintf(pOut,
            "usage: threadlens run [--db FILE] [-o key=value ...] [--] PROG [ARGS...]\n"
            "\n"
            "Run PROG with the threadlens agent preloaded; PROG's exit status is returned.\n"
            "  --db FILE        database to write (default ./threadlens-PROG-PID.db);\n"
            "                   an existing FILE, FILE-wal and FILE-shm are removed first\n"
            "  -o key=value     agent option, appended to THREADLENS_OPTIONS (repeatable)\n"
            "Environment: THREADLENS_AGENT overrides the agent library's path.\n");
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

/*
 * Fill p from argv (argv[0] is "run"). Returns 0 to go on, -1 after printing
 * --help, or TL_EXIT_USAGE after a message. The option list is
 * allocated to argc entries; the process exits or execs, so it is not freed.
 */
static int args_parse(int argc, char **argv, struct tl_run_args *p)
{
    memset(p, 0, sizeof(*p));
    p->azOpt = calloc((size_t)argc, sizeof(*p->azOpt));
    if (p->azOpt == NULL) {
        perror("threadlens");
        return TL_EXIT_USAGE;
    }
    int i = 1;
    while (i < argc) {
        const char *zArg = argv[i];
        const char *zOpt = NULL;
        if (strcmp(zArg, "--") == 0) {
            i++;
            break;
        } else if (strcmp(zArg, "-h") == 0 || strcmp(zArg, "--help") == 0) {
            tl_run_usage(stdout);
            return -1;
        } else if (strcmp(zArg, "--db") == 0 || strcmp(zArg, "-o") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "threadlens: %s needs an argument\n", zArg);
                return TL_EXIT_USAGE;
            }
            if (zArg[1] == 'o') {
                zOpt = argv[i + 1];
            } else {
                p->zDb = argv[i + 1];
            }
            i += 2;
        } else if (strncmp(zArg, "--db=", 5) == 0) {
            p->zDb = zArg + 5;
            i++;
        } else if (strncmp(zArg, "-o", 2) == 0) {
            zOpt = zArg + 2;
            i++;
        } else if (zArg[0] == '-' && zArg[1] != '\0') {
            fprintf(stderr, "threadlens: unknown option '%s'\n", zArg);
            tl_run_usage(stderr);
            return TL_EXIT_USAGE;
        } else {
            break;
        }
        if (zOpt != NULL) {
            int rc = opt_check(zOpt);
            if (rc != 0) {
                return rc;
            }
            if (strncmp(zOpt, "db=", 3) == 0) {
                p->zDb = zOpt + 3; /* same as --db: made absolute, old files removed */
            } else {
                p->azOpt[p->nOpt++] = zOpt;
            }
        }
    }
    if (i >= argc) {
        fprintf(stderr, "threadlens: run: no program given\n");
        tl_run_usage(stderr);
        return TL_EXIT_USAGE;
    }
    if (p->zDb != NULL && p->zDb[0] == '\0') {
        fprintf(stderr, "threadlens: the database path is empty\n");
        return TL_EXIT_USAGE;
    }
    p->azProg = &argv[i];
    return 0;
}

/*
 * Find zProg as execvp would: a name with a '/' is used as is, otherwise the
 * first executable regular file along $PATH (glibc's default path when unset;
 * an empty entry is the current directory). Returns 0 with the path in zOut,
 * or -ENOENT. Only used to inspect the file; execvp does the real lookup.
 */
static int prog_resolve(const char *zProg, char *zOut, size_t nOut)
{
    if (strchr(zProg, '/') != NULL) {
        snprintf(zOut, nOut, "%s", zProg);
        return 0;
    }
    const char *zPath = getenv("PATH");
    if (zPath == NULL) {
        zPath = "/bin:/usr/bin";
    }
    while (1) {
        const char *zEnd = strchrnul(zPath, ':');
        int nDir = (int)(zEnd - zPath);
        int w = nDir == 0 ? snprintf(zOut, nOut, "%s", zProg)
                          : snprintf(zOut, nOut, "%.*s/%s", nDir, zPath, zProg);
        struct stat st;
        if (w > 0 && (size_t)w < nOut && stat(zOut, &st) == 0 && S_ISREG(st.st_mode) &&
            access(zOut, X_OK) == 0) {
            return 0;
        }
        if (*zEnd == '\0') {
            return -ENOENT;
        }
        zPath = zEnd + 1;
    }
}

/*
 * Turn zDb into an absolute path in zOut: realpath of its directory, then its
 * last component (which need not exist yet). Returns 0, or TL_EXIT_USAGE
 * after printing why.
 */
static int db_absolute(const char *zDb, char *zOut, size_t nOut)
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
 * Remove zDb and its WAL and shared-memory files, so the run starts a fresh
 * database (processes of the run then append to it). Missing files are fine.
 * Returns 0, or TL_EXIT_USAGE after printing which file could not go.
 */
static int db_remove_old(const char *zDb)
{
    static const char *const azSuffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof(azSuffix) / sizeof(azSuffix[0]); i++) {
        char zFile[PATH_MAX + 8];
        snprintf(zFile, sizeof(zFile), "%s%s", zDb, azSuffix[i]);
        if (unlink(zFile) != 0 && errno != ENOENT) {
            fprintf(stderr, "threadlens: cannot remove old database file %s: %s\n", zFile,
                    strerror(errno));
            return TL_EXIT_USAGE;
        }
    }
    return 0;
}

/*
 * Set environment variable zName to what xFill writes into a memory stream.
 * Returns 0, or TL_EXIT_USAGE after a message.
 */
static int env_set_built(const char *zName, void (*xFill)(FILE *, const void *), const void *pArg)
{
    char *zBuf = NULL;
    size_t nBuf = 0;
    FILE *pStr = open_memstream(&zBuf, &nBuf);
    if (pStr == NULL) {
        perror("threadlens");
        return TL_EXIT_USAGE;
    }
    xFill(pStr, pArg);
    int rc = fclose(pStr) == 0 ? setenv(zName, zBuf, 1) : -1;
    if (rc != 0) {
        fprintf(stderr, "threadlens: cannot set %s: %s\n", zName, strerror(errno));
    }
    free(zBuf);
    return rc == 0 ? 0 : TL_EXIT_USAGE;
}

/* LD_PRELOAD: the agent first, then whatever was preloaded before. */
static void fill_preload(FILE *pStr, const void *pArg)
{
    const char *zOld = getenv("LD_PRELOAD");
    fputs((const char *)pArg, pStr);
    if (zOld != NULL && zOld[0] != '\0') {
        fprintf(pStr, ":%s", zOld);
    }
}

/* What fill_options needs. */
struct tl_opt_fill {
    const char *zDbAbs;             /* absolute database path */
    const struct tl_run_args *pArgs; /* the -o options */
};

/*
 * THREADLENS_OPTIONS: the inherited value, then db=, then each -o, so that
 * ours win (the agent lets a later key override an earlier one).
 */
static void fill_options(FILE *pStr, const void *pArg)
{
    const struct tl_opt_fill *pFill = pArg;
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
    if (strpbrk(pFill->zDbAbs, ", \t\n") != NULL) {
        fprintf(pStr, "db=\"%s\"", pFill->zDbAbs);
    } else {
        fprintf(pStr, "db=%s", pFill->zDbAbs);
    }
    for (int i = 0; i < pFill->pArgs->nOpt; i++) {
        fprintf(pStr, ":%s", pFill->pArgs->azOpt[i]);
    }
}

/*
 * Set LD_PRELOAD and THREADLENS_OPTIONS for the program. Returns 0, or
 * TL_EXIT_USAGE after a message.
 */
static int env_setup(const char *zAgent, const char *zDbAbs, const struct tl_run_args *p)
{
    struct tl_opt_fill fill = {.zDbAbs = zDbAbs, .pArgs = p};
    int rc = env_set_built("LD_PRELOAD", fill_preload, zAgent);
    if (rc == 0) {
        rc = env_set_built("THREADLENS_OPTIONS", fill_options, &fill);
    }
    return rc;
}

/*
 * Set up the agent's environment for the program in p, or print why not.
 * Returns 0 or TL_EXIT_USAGE.
 */
static int run_prepare(const struct tl_run_args *p)
{
    char zAgent[PATH_MAX];
    char zTried[PATH_MAX];
    if (tl_agent_path_find(zAgent, sizeof(zAgent), zTried, sizeof(zTried)) != 0) {
        fprintf(stderr,
                "threadlens: cannot find the agent library (looked in %s); set THREADLENS_AGENT\n",
                zTried);
        return TL_EXIT_USAGE;
    }
    if (strpbrk(zAgent, ": \t\n") != NULL) {
        fprintf(stderr,
                "threadlens: the agent path %s contains ':' or white space, which "
                "LD_PRELOAD cannot carry; set THREADLENS_AGENT to a path without them\n",
                zAgent);
        return TL_EXIT_USAGE;
    }

    char zDefault[NAME_MAX + 1];
    const char *zDb = p->zDb;
    if (zDb == NULL) {
        const char *zProg = p->azProg[0];
        const char *zSlash = strrchr(zProg, '/');
        const char *zBase = zSlash != NULL ? zSlash + 1 : zProg;
        snprintf(zDefault, sizeof(zDefault), "threadlens-%.200s-%ld.db", zBase, (long)getpid());
        zDb = zDefault;
    }
    char zDbAbs[PATH_MAX];
    int rc = db_absolute(zDb, zDbAbs, sizeof(zDbAbs));
    if (rc == 0) {
        rc = db_remove_old(zDbAbs);
    }
    if (rc == 0) {
        rc = env_setup(zAgent, zDbAbs, p);
    }
    return rc;
}

/*
 * `threadlens run ...`: argv[0] is "run". Returns an exit status only when it
 * does not exec: TL_EXIT_USAGE for a bad command line or setup, 126 or 127
 * when the program cannot be executed, 0 after --help.
 */
int tl_run_main(int argc, char **argv)
{
    struct tl_run_args args;
    int rc = args_parse(argc, argv, &args);
    if (rc != 0) {
        return rc < 0 ? 0 : rc;
    }
    const char *zProg = args.azProg[0];

    char zPath[PATH_MAX];
    int kind = TL_ELF_NOT_ELF;
    if (prog_resolve(zProg, zPath, sizeof(zPath)) == 0) {
        kind = tl_elf_check(zPath);
    }
    if (kind == TL_ELF_STATIC) {
        fprintf(stderr,
                "threadlens: %s is statically linked; the agent cannot be preloaded. "
                "Running it without threadlens.\n",
                zProg);
    } else {
        rc = run_prepare(&args);
        if (rc != 0) {
            return rc;
        }
    }

    fflush(NULL);
    execvp(zProg, args.azProg);
    int err = errno;
    fprintf(stderr, "threadlens: cannot run %s: %s\n", zProg, strerror(err));
    return err == ENOENT ? TL_EXIT_NOTFOUND : TL_EXIT_NOEXEC;
}
