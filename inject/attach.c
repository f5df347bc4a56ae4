/*
 * attach.c - the `attach` and `detach` commands (x86-64). Order of work:
 * parse the command line (usage errors exit 2 before anything changes), look
 * at the target through /proc and refuse early with advice (no such process,
 * traced, stopped, statically linked), find the agent and the database, then
 * let loader.c call threadlens_attach or threadlens_detach in the target and
 * report its result.
 *
 * An agent already mapped in the target is reused by its own path (never a
 * second copy): after a detach it stays loaded, and attach asks it to record
 * again. "Already attached" (the agent says it is recording) exits 1.
 */
#include "attach.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_opts.h"
#include "agent_path.h"
#include "elf_check.h"
#include "loader.h"
#include "proc_target.h"
#include "remote_sym.h"
#include "stub_layout.h"

#define TL_EXIT_FAIL 1

void tl_attach_usage(FILE *pOut)
{
    fprintf(pOut,
            "usage: threadlens attach [--db FILE] [-o key=value ...] PID\n"
            "       threadlens detach PID\n"
            "\n"
            "attach loads the agent into the running process PID (ptrace, no restart) and\n"
            "records from that moment on; detach stops recording (the agent stays loaded).\n"
            "  --db FILE        database to write (default ./threadlens-PROG-PID.db);\n"
            "                   an existing FILE, FILE-wal and FILE-shm are removed first\n"
            "  -o key=value     agent option, as for run (repeatable)\n"
            "Environment: THREADLENS_AGENT overrides the agent library's path;\n"
            "THREADLENS_OPTIONS is passed on, as for run.\n");
}

/* Parse PID. Returns it, or 0 after a message. */
static long pid_parse(const char *zArg)
{
    char *zEnd = NULL;
    errno = 0;
    long pid = strtol(zArg, &zEnd, 10);
    if (errno != 0 || zEnd == zArg || *zEnd != '\0' || pid <= 0 || pid > INT32_MAX) {
        fprintf(stderr, "threadlens: '%s' is not a process id\n", zArg);
        return 0;
    }
    return pid;
}

/*
 * Parse [--db FILE] [-o key=value ...] PID (argv[0] is the command). With
 * pArgs NULL no option is accepted. Returns 0 with *pPid, -1 after --help,
 * or TL_EXIT_USAGE after a message.
 */
static int args_parse(int argc, char **argv, struct tl_agent_args *pArgs, long *pPid)
{
    int rc = pArgs != NULL ? tl_agent_args_init(pArgs, argc) : 0;
    int i = 1;
    while (rc == 0 && i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            tl_attach_usage(stdout);
            return -1;
        }
        rc = pArgs != NULL ? tl_agent_args_take(pArgs, argc, argv, &i) : 0;
        if (rc == 0) {
            fprintf(stderr, "threadlens: unknown option '%s'\n", argv[i]);
            rc = TL_EXIT_USAGE;
        } else if (rc == 1) {
            rc = 0;
        }
    }
    if (rc == 0 && i != argc - 1) {
        fprintf(stderr, "threadlens: %s: expected one process id\n", argv[0]);
        rc = TL_EXIT_USAGE;
    }
    if (rc == 0 && (*pPid = pid_parse(argv[i])) == 0) {
        rc = TL_EXIT_USAGE;
    }
    if (rc == TL_EXIT_USAGE) {
        tl_attach_usage(stderr);
    }
    return rc;
}

/* The name of process pid, for messages ("?" when gone). */
static void tracer_name(long pid, char *zOut, size_t nOut)
{
    struct tl_target t;
    snprintf(zOut, nOut, "%s", tl_target_read((pid_t)pid, &t) == 0 ? t.zName : "?");
}

/*
 * Read and vet the target. Returns 0, or TL_EXIT_FAIL after saying why it
 * cannot be done and what to do instead.
 */
static int target_check(long pid, const char *zVerb, struct tl_target *pT)
{
    if (tl_target_read((pid_t)pid, pT) != 0) {
        fprintf(stderr, "threadlens: no process with pid %ld\n", pid);
        return TL_EXIT_FAIL;
    }
    const char *zName = pT->zName;
    if (pT->tgid != pid) {
        fprintf(stderr, "threadlens: %ld is a thread of process %ld; give the process id %ld\n",
                pid, pT->tgid, pT->tgid);
        return TL_EXIT_FAIL;
    }
    if (pid == (long)getpid()) {
        fprintf(stderr, "threadlens: cannot %s to itself\n", zVerb);
        return TL_EXIT_FAIL;
    }
    if (pT->state == 'Z' || pT->state == 'X') {
        fprintf(stderr, "threadlens: process %ld (%s) has already exited\n", pid, zName);
        return TL_EXIT_FAIL;
    }
    if (pT->tracerPid != 0) {
        char zTracer[256];
        tracer_name(pT->tracerPid, zTracer, sizeof(zTracer));
        fprintf(stderr,
                "threadlens: cannot %s %ld (%s): it is already traced by process %ld (%s); "
                "detach that debugger or tracer first\n",
                zVerb, pid, zName, pT->tracerPid, zTracer);
        return TL_EXIT_FAIL;
    }
    if (pT->state == 'T') {
        fprintf(stderr, "threadlens: cannot %s %ld (%s): it is stopped; resume it first "
                        "(kill -CONT %ld)\n", zVerb, pid, zName, pid);
        return TL_EXIT_FAIL;
    }
    char zExe[64];
    snprintf(zExe, sizeof(zExe), "/proc/%ld/exe", pid);
    if (tl_elf_check(zExe) == TL_ELF_STATIC) {
        fprintf(stderr,
                "threadlens: cannot %s %ld (%s): it is statically linked, so the agent cannot "
                "be loaded into it; only dynamically linked programs can be recorded\n",
                zVerb, pid, zName);
        return TL_EXIT_FAIL;
    }
    if (pT->seccomp == 2) {
        fprintf(stderr, "threadlens: warning: %ld (%s) runs under a seccomp filter, which may "
                        "block the calls threadlens makes (mmap, mprotect, clone)\n", pid, zName);
    }
    return 0;
}

static int match_agent(const char *zBase)
{
    return strncmp(zBase, "libthreadlens", 13) == 0;
}

/* The agent mapped in the target, if any: 0 with its path, or -ENOENT. */
static int agent_loaded(const struct tl_target *pT, struct tl_module *pMod)
{
    return tl_module_find(pT->pid, match_agent, pMod);
}

/*
 * The agent to load (the one already mapped, else ours) into zOut.
 * Returns 0, or TL_EXIT_FAIL after a message.
 */
static int agent_choose(const struct tl_target *pT, int *pLoaded, char *zOut, size_t nOut)
{
    struct tl_module mod;
    *pLoaded = agent_loaded(pT, &mod) == 0;
    if (*pLoaded) {
        snprintf(zOut, nOut, "%s", mod.zPath);
        return 0;
    }
    char zTried[PATH_MAX];
    if (tl_agent_path_find(zOut, nOut, zTried, sizeof(zTried)) != 0) {
        fprintf(stderr,
                "threadlens: cannot find the agent library (looked in %s); set THREADLENS_AGENT\n",
                zTried);
        return TL_EXIT_FAIL;
    }
    return 0;
}

/*
 * Choose the database (absolute; old files removed unless an agent is
 * already loaded, which may be writing it) and build the option string
 * (malloc'ed into *pzOpts). Returns 0 or an exit status after a message.
 */
static int options_build(const struct tl_target *pT, const struct tl_agent_args *pArgs,
                         int loaded, char *zDbAbs, size_t nDbAbs, char **pzOpts)
{
    char zDefault[NAME_MAX + 1];
    const char *zDb = pArgs->zDb;
    if (zDb == NULL) {
        tl_agent_db_default(zDefault, sizeof(zDefault), pT->zName, (long)pT->pid);
        zDb = zDefault;
    }
    int rc = tl_agent_db_absolute(zDb, zDbAbs, nDbAbs);
    if (rc == 0 && !loaded) {
        rc = tl_agent_db_remove_old(zDbAbs);
    }
    if (rc != 0) {
        return rc;
    }
    size_t n = 0;
    FILE *pStr = open_memstream(pzOpts, &n);
    if (pStr == NULL) {
        perror("threadlens");
        return TL_EXIT_FAIL;
    }
    tl_agent_opts_write(pStr, zDbAbs, pArgs);
    if (fclose(pStr) != 0) {
        perror("threadlens");
        return TL_EXIT_FAIL;
    }
    return 0;
}

/* Tell the user what threadlens_attach's result means. Returns the exit status. */
static int attach_report(const struct tl_target *pT, const char *zAgent, const char *zDb,
                         const struct tl_loader_out *pOut)
{
    long pid = (long)pT->pid;
    int result = (int)pOut->result; /* the entry returns int: only eax is meaningful */
    if (pOut->result == TL_STUB_EDLOPEN) {
        fprintf(stderr, "threadlens: cannot attach to %ld (%s): loading %s failed there: %s\n",
                pid, pT->zName, zAgent, pOut->zError);
    } else if (pOut->result == TL_STUB_EDLSYM) {
        fprintf(stderr, "threadlens: cannot attach to %ld (%s): %s has no threadlens_attach "
                        "(an older agent?): %s\n", pid, pT->zName, zAgent, pOut->zError);
    } else if (result == 0) {
        printf("threadlens: attached to %ld (%s), recording to %s\n", pid, pT->zName, zDb);
        return 0;
    } else if (result == 1) {
        fprintf(stderr, "threadlens: %ld (%s) is already attached and recording; nothing "
                        "changed (run `threadlens detach %ld` first to start again)\n",
                pid, pT->zName, pid);
    } else {
        fprintf(stderr, "threadlens: the agent could not start recording in %ld (%s) (error "
                        "%d); it printed why on that program's stderr\n", pid, pT->zName, result);
    }
    return TL_EXIT_FAIL;
}

/* `threadlens attach ...`: argv[0] is "attach". Returns the exit status. */
int tl_attach_main(int argc, char **argv)
{
    struct tl_agent_args args;
    long pid = 0;
    int rc = args_parse(argc, argv, &args, &pid);
    if (rc != 0) {
        return rc < 0 ? 0 : rc;
    }
    struct tl_target target;
    rc = target_check(pid, "attach to", &target);
    char zAgent[PATH_MAX];
    int loaded = 0;
    if (rc == 0) {
        rc = agent_choose(&target, &loaded, zAgent, sizeof(zAgent));
    }
    char zDbAbs[PATH_MAX];
    char *zOpts = NULL;
    if (rc == 0) {
        rc = options_build(&target, &args, loaded, zDbAbs, sizeof(zDbAbs), &zOpts);
    }
    if (rc != 0) {
        return rc;
    }
    struct tl_loader_req req = {.zVerb = "attach to", .zLib = zAgent,
                                .zEntry = "threadlens_attach", .zArg = zOpts, .noLoad = 0};
    struct tl_loader_out out;
    rc = tl_loader_run(&target, &req, &out);
    if (rc == 0) {
        rc = attach_report(&target, zAgent, zDbAbs, &out);
    }
    free(zOpts);
    return rc;
}

/* `threadlens detach PID`: argv[0] is "detach". Returns the exit status. */
int tl_detach_main(int argc, char **argv)
{
    long pid = 0;
    int rc = args_parse(argc, argv, NULL, &pid);
    if (rc != 0) {
        return rc < 0 ? 0 : rc;
    }
    struct tl_target target;
    rc = target_check(pid, "detach from", &target);
    if (rc != 0) {
        return rc;
    }
    struct tl_module mod;
    if (agent_loaded(&target, &mod) != 0) {
        fprintf(stderr, "threadlens: %ld (%s) has no threadlens agent loaded; nothing to detach\n",
                pid, target.zName);
        return TL_EXIT_FAIL;
    }
    struct tl_loader_req req = {.zVerb = "detach from", .zLib = mod.zPath,
                                .zEntry = "threadlens_detach", .zArg = "", .noLoad = 1};
    struct tl_loader_out out;
    if (tl_loader_run(&target, &req, &out) != 0) {
        return TL_EXIT_FAIL;
    }
    if (out.result == TL_STUB_EDLOPEN || out.result == TL_STUB_EDLSYM) {
        fprintf(stderr, "threadlens: cannot detach from %ld (%s): %s: %s\n", pid, target.zName,
                mod.zPath, out.zError);
        return TL_EXIT_FAIL;
    }
    printf("threadlens: detached from %ld (%s); recording stopped, the agent stays loaded\n",
           pid, target.zName);
    return 0;
}
