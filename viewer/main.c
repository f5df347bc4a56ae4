/*
 * main.c - threadlens-top: command line and dispatch.
 *
 *   threadlens-top [--no-color] DB   the interactive dashboard (tui.c)
 *   threadlens-top --report DB   findings as text
 *   threadlens-top --json DB     findings as JSON
 *   threadlens-top --pprof heap|mutex|threads DB   a profile.proto, gzip'ed
 *   threadlens-top --trace DB    Chrome trace event JSON
 *   threadlens-top --metrics DB  OpenMetrics text of the latest tick
 *
 * Exit status (a public contract, so CI can gate on it): 0 when no finding has
 * severity error, 1 when at least one has, 2 on a usage or I/O error, which is
 * reported as one line on stderr starting "threadlens-top: ". The exports
 * (--pprof, --trace, --metrics) exit 0 or 2: they describe, they do not gate.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "export_json.h"
#include "export_metrics.h"
#include "export_pprof.h"
#include "export_trace.h"
#include "load.h"
#include "report.h"
#include "suppress.h"
#include "schema.h"
#include "tui.h"

#ifndef TL_VERSION
#define TL_VERSION "unknown"
#endif

enum { EXIT_CLEAN = 0, EXIT_FINDINGS = 1, EXIT_ERROR = 2 };

enum mode { MODE_LIVE, MODE_REPORT, MODE_JSON, MODE_PPROF, MODE_TRACE, MODE_METRICS };

struct options {
    enum mode mode;   /* what to print */
    const char *path; /* database file */
    bool no_color;    /* --no-color */
    const char *suppressions; /* --suppressions FILE */
    bool show_suppressed;     /* --show-suppressed */
    const char *pprof_kind;   /* --pprof KIND */
    long long pid;            /* --pid N, or -1: every process (--pprof: the first) */
};

static const char usage_text[] =
    "usage: threadlens-top [--report | --json | --no-color] [--suppressions FILE]\n"
    "                      [--show-suppressed] DB\n"
    "\n"
    "Shows a threadlens database (written by `threadlens run`): without an option,\n"
    "as an interactive dashboard that follows the database while it is written.\n"
    "\n"
    "  --no-color   draw the dashboard without colours (also: NO_COLOR set)\n"
    "  --report     print the findings as text, with stacks\n"
    "  --json       print the findings as one JSON document\n"
    "  --suppressions FILE  treat findings matching FILE's kind:pattern lines as\n"
    "               suppressed (as the agent's suppressions= option does)\n"
    "  --show-suppressed    list suppressed findings too (they never fail the exit status)\n"
    "  --pprof KIND print a gzip'ed profile.proto for `go tool pprof`, Pyroscope or\n"
    "               Parca: heap (alloc/inuse objects and space, sampled), mutex\n"
    "               (contentions, delay) or threads (thread creation sites)\n"
    "  --trace      print Chrome trace event JSON (Perfetto UI, chrome://tracing):\n"
    "               thread lifetimes, task spans, waits, findings, counters\n"
    "  --metrics    print OpenMetrics text of the latest tick (Prometheus)\n"
    "  --pid N      exports: only process N (--pprof: default the first process)\n"
    "  --help       print this help\n"
    "  --version    print the version\n"
    "\n"
    "Exit status: 0 no finding of severity error, 1 at least one, 2 usage or I/O error.\n"
    "The exports exit 0, or 2 on a usage or I/O error.\n";

/* Prints one error line and returns EXIT_ERROR. */
static int fail(const char *what, const char *detail)
{
    fprintf(stderr, "threadlens-top: %s%s\n", what, detail ? detail : "");
    return EXIT_ERROR;
}

static int set_mode(struct options *o, enum mode m)
{
    if (o->mode != MODE_LIVE && o->mode != m)
        return fail("--report, --json, --pprof, --trace and --metrics cannot be combined", NULL);
    o->mode = m;
    return 0;
}

static int set_path(struct options *o, const char *arg)
{
    if (o->path)
        return fail("more than one database given: ", arg);
    o->path = arg;
    return 0;
}

/* Parses a --pid value: a non-negative decimal process id. */
static int parse_pid(struct options *o, const char *arg)
{
    char *end;

    errno = 0;
    o->pid = arg ? strtoll(arg, &end, 10) : -1;
    if (!arg || !*arg || *end || errno || o->pid < 0)
        return fail("--pid needs a process id, not: ", arg ? arg : "(nothing)");
    return 0;
}

/* --pprof KIND, --pid N, --trace, --metrics; *i moves past a value taken. */
static int parse_export_arg(struct options *o, const char *a, const char *next, int *i)
{
    if (strcmp(a, "--trace") == 0)
        return set_mode(o, MODE_TRACE);
    if (strcmp(a, "--metrics") == 0)
        return set_mode(o, MODE_METRICS);
    if (!next)
        return fail(a, " needs a value (try --help)");
    ++*i;
    if (strcmp(a, "--pid") == 0)
        return parse_pid(o, next);
    if (!tl_pprof_kind_valid(next))
        return fail("unknown profile kind (heap, mutex or threads): ", next);
    o->pprof_kind = next;
    return set_mode(o, MODE_PPROF);
}

/*
 * Parses argv into o. Returns -1 to continue, or an exit status: 0 after
 * --help or --version, EXIT_ERROR after a usage error (already reported).
 */
static int parse_args(int argc, char **argv, struct options *o)
{
    bool positional = false;
    int rc = 0;

    for (int i = 1; i < argc && rc == 0; i++) {
        const char *a = argv[i];

        if (positional || a[0] != '-' || a[1] == '\0')
            rc = set_path(o, a);
        else if (strcmp(a, "--") == 0)
            positional = true;
        else if (strcmp(a, "--report") == 0)
            rc = set_mode(o, MODE_REPORT);
        else if (strcmp(a, "--json") == 0)
            rc = set_mode(o, MODE_JSON);
        else if (strcmp(a, "--no-color") == 0)
            o->no_color = true;
        else if (strcmp(a, "--show-suppressed") == 0)
            o->show_suppressed = true;
        else if (strcmp(a, "--suppressions") == 0 && i + 1 < argc)
            o->suppressions = argv[++i];
        else if (strcmp(a, "--pprof") == 0 || strcmp(a, "--pid") == 0 ||
                 strcmp(a, "--trace") == 0 || strcmp(a, "--metrics") == 0)
            rc = parse_export_arg(o, a, i + 1 < argc ? argv[i + 1] : NULL, &i);
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return fputs(usage_text, stdout) == EOF ? EXIT_ERROR : 0;
        else if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0)
            return printf("threadlens-top %s (schema %d)\n", TL_VERSION, TL_SCHEMA_VERSION) < 0
                       ? EXIT_ERROR
                       : 0;
        else
            rc = fail("unknown option (try --help): ", a);
    }
    return rc ? rc : -1;
}

/* Flushes stdout; a failed write (full disk, closed pipe) is an I/O error. */
static int finish_output(int status)
{
    if (fflush(stdout) != 0 || ferror(stdout))
        return fail("cannot write output: ", strerror(errno));
    return status;
}

/* --pprof, --trace, --metrics: 0 or EXIT_ERROR; they never gate on findings. */
static int export(const struct options *o)
{
    struct tl_db *db = NULL;
    char err[512] = "";
    int rc;

    if (o->mode == MODE_PPROF && isatty(STDOUT_FILENO))
        return fail("--pprof writes a binary profile; redirect it to a file", NULL);
    if (tl_db_open(o->path, &db, err, sizeof(err)) != 0)
        return fail(err, NULL);
    if (o->mode == MODE_PPROF)
        rc = tl_export_pprof(db, o->pprof_kind, o->pid, stdout, err, sizeof(err));
    else if (o->mode == MODE_TRACE)
        rc = tl_export_trace(db, o->pid, stdout, err, sizeof(err));
    else
        rc = tl_export_metrics(db, o->pid, stdout, err, sizeof(err));
    tl_db_close(db);
    if (rc != 0)
        return fail(err, NULL);
    return finish_output(EXIT_CLEAN);
}

static int run(const struct options *o)
{
    struct tl_db *db = NULL;
    struct tl_run r;
    char err[512];
    int status;

    if (tl_db_open(o->path, &db, err, sizeof(err)) != 0)
        return fail(err, NULL);
    if (tl_load_run(db, &r) != 0) {
        status = fail(tl_db_error(db), NULL);
        tl_db_close(db);
        return status;
    }
    tl_db_close(db);
    struct tl_suppressions *supp = NULL;
    if (o->suppressions && !(supp = tl_supp_load(o->suppressions, err, sizeof(err)))) {
        tl_load_free(&r);
        return fail("bad suppressions file: ", err);
    }
    tl_load_suppress(&r, supp, o->show_suppressed);
    tl_supp_free(supp);
    if (o->mode == MODE_JSON)
        tl_export_json(stdout, &r);
    else
        tl_report_write(stdout, &r);
    status = r.n_error > 0 ? EXIT_FINDINGS : EXIT_CLEAN;
    tl_load_free(&r);
    return finish_output(status);
}

/*
 * The dashboard. A bad database is reported before the terminal is touched,
 * and so is a missing terminal (stdin and stdout must be one).
 */
static int live(const struct options *o)
{
    struct tl_tui_options t = {.path = o->path, .color = !o->no_color};
    const char *no_color = getenv("NO_COLOR");
    struct tl_db *db = NULL;
    char err[512];
    int status;

    if (no_color && no_color[0])
        t.color = false;
    if (tl_db_open(o->path, &db, err, sizeof(err)) != 0)
        return fail(err, NULL);
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        tl_db_close(db);
        return fail("the interactive view needs a terminal; use --report or --json", NULL);
    }
    status = tl_tui_run(db, &t);
    tl_db_close(db);
    return status;
}

static const char *export_flag(enum mode m)
{
    return m == MODE_PPROF ? "--pprof" : m == MODE_TRACE ? "--trace" : "--metrics";
}

int main(int argc, char **argv)
{
    struct options o = {.mode = MODE_LIVE, .path = NULL, .no_color = false, .pid = -1};
    int rc = parse_args(argc, argv, &o);

    if (rc >= 0)
        return rc;
    if (o.pid >= 0 && o.mode < MODE_PPROF)
        return fail("--pid applies to --pprof, --trace and --metrics", NULL);
    if (o.mode == MODE_LIVE && !o.path)
        return fail("a database file is needed (try --help)", NULL);
    if (o.mode == MODE_LIVE)
        return live(&o);
    if (!o.path && o.mode >= MODE_PPROF)
        return fail(export_flag(o.mode), " needs a database file");
    if (!o.path)
        return fail(o.mode == MODE_JSON ? "--json" : "--report", " needs a database file");
    if (o.mode >= MODE_PPROF)
        return export(&o);
    return run(&o);
}
