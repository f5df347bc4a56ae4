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

#include "agent_opts.h"
#include "agent_path.h"
#include "elf_check.h"

#define TL_EXIT_NOEXEC 126 /* found but could not be run, as in sh */
#define TL_EXIT_NOTFOUND 127

/* What the command line asked for. Pointers point into argv. */
struct tl_run_args {
    struct tl_agent_args agent; /* --db and -o */
    char **azProg;              /* PROG ARGS..., NULL-terminated (argv's tail) */
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
 * Fill p from argv (argv[0] is "run"). Returns 0 to go on, -1 after printing
 * --help, or TL_EXIT_USAGE after a message. The option list is
 * allocated to argc entries; the process exits or execs, so it is not freed.
 */
static int args_parse(int argc, char **argv, struct tl_run_args *p)
{
    p->azProg = NULL;
    int rc = tl_agent_args_init(&p->agent, argc);
    int i = 1;
    while (rc == 0 && i < argc) {
        const char *zArg = argv[i];
        if (strcmp(zArg, "--") == 0) {
            i++;
            break;
        } else if (strcmp(zArg, "-h") == 0 || strcmp(zArg, "--help") == 0) {
            tl_run_usage(stdout);
            return -1;
        }
        rc = tl_agent_args_take(&p->agent, argc, argv, &i);
        if (rc == 1) {
            rc = 0;
        } else if (rc == 0 && zArg[0] == '-' && zArg[1] != '\0') {
            fprintf(stderr, "threadlens: unknown option '%s'\n", zArg);
            tl_run_usage(stderr);
            rc = TL_EXIT_USAGE;
        } else if (rc == 0) {
            break;
        }
    }
    if (rc != 0) {
        return rc;
    }
    if (i >= argc) {
        fprintf(stderr, "threadlens: run: no program given\n");
        tl_run_usage(stderr);
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
    const char *zDbAbs;               /* absolute database path */
    const struct tl_agent_args *pArgs; /* the -o options */
};

/* THREADLENS_OPTIONS, as agent_opts.c builds it for run and attach alike. */
static void fill_options(FILE *pStr, const void *pArg)
{
    const struct tl_opt_fill *pFill = pArg;
    tl_agent_opts_write(pStr, pFill->zDbAbs, pFill->pArgs);
}

/*
 * Set LD_PRELOAD and THREADLENS_OPTIONS for the program. Returns 0, or
 * TL_EXIT_USAGE after a message.
 */
static int env_setup(const char *zAgent, const char *zDbAbs, const struct tl_run_args *p)
{
    struct tl_opt_fill fill = {.zDbAbs = zDbAbs, .pArgs = &p->agent};
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
    const char *zDb = p->agent.zDb;
    if (zDb == NULL) {
        tl_agent_db_default(zDefault, sizeof(zDefault), p->azProg[0], (long)getpid());
        zDb = zDefault;
    }
    char zDbAbs[PATH_MAX];
    int rc = tl_agent_db_absolute(zDb, zDbAbs, sizeof(zDbAbs));
    if (rc == 0) {
        rc = tl_agent_db_remove_old(zDbAbs);
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
