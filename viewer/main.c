/*
 * main.c - threadlens-top: command line and dispatch.
 *
 *   threadlens-top [--no-color] DB   the interactive dashboard (tui.c)
 *   threadlens-top --report DB   findings as text
 *   threadlens-top --json DB     findings as JSON
 *
 * Exit status (a public contract, so CI can gate on it): 0 when no finding has
 * severity error, 1 when at least one has, 2 on a usage or I/O error, which is
 * reported as one line on stderr starting "threadlens-top: ".
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "export_json.h"
#include "load.h"
#include "report.h"
#include "suppress.h"
#include "schema.h"
#include "tui.h"

#ifndef TL_VERSION
#define TL_VERSION "unknown"
#endif

enum { EXIT_CLEAN = 0, EXIT_FINDINGS = 1, EXIT_ERROR = 2 };

enum mode { MODE_LIVE, MODE_REPORT, MODE_JSON };

struct options {
    enum mode mode;   /* what to print */
    const char *path; /* database file */
    bool no_color;    /* --no-color */
    const char *suppressions; /* --suppressions FILE */
    bool show_suppressed;     /* --show-suppressed */
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
    "  --help       print this help\n"
    "  --version    print the version\n"
    "\n"
    "Exit status: 0 no finding of severity error, 1 at least one, 2 usage or I/O error.\n";

/* Prints one error line and returns EXIT_ERROR. */
static int fail(const char *what, const char *detail)
{
    fprintf(stderr, "threadlens-top: %s%s\n", what, detail ? detail : "");
    return EXIT_ERROR;
}

static int set_mode(struct options *o, enum mode m)
{
    if (o->mode != MODE_LIVE && o->mode != m)
        return fail("--report and --json cannot be combined", NULL);
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

int main(int argc, char **argv)
{
    struct options o = {.mode = MODE_LIVE, .path = NULL, .no_color = false};
    int rc = parse_args(argc, argv, &o);

    if (rc >= 0)
        return rc;
    if (o.mode == MODE_LIVE && !o.path)
        return fail("a database file is needed (try --help)", NULL);
    if (o.mode == MODE_LIVE)
        return live(&o);
    if (!o.path)
        return fail(o.mode == MODE_JSON ? "--json" : "--report", " needs a database file");
    return run(&o);
}
