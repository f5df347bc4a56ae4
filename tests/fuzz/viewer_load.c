/* viewer_load.c - threadlens-top's reading of a database, for the fuzzers (see viewer_load.h). */
#include "viewer_load.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "db.h"
#include "export_json.h"
#include "load.h"
#include "model.h"
#include "report.h"
#include "symbolize.h"

int tl_fuzz_temp_path(char *path, const char *stem)
{
    int fd;

    snprintf(path, 32, "/tmp/tl-%.8s-XXXXXX", stem);
    fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

void tl_fuzz_unlink_side_files(const char *path)
{
    static const char *const suffixes[] = {"-wal", "-shm", "-journal"};
    char side[64];

    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        snprintf(side, sizeof(side), "%s%s", path, suffixes[i]);
        unlink(side);
    }
}

/* What `threadlens-top --report` and `--json` do with the file. */
static void load_and_render(const char *path, FILE *out)
{
    struct tl_db *db = NULL;
    struct tl_run run;
    char err[512];

    if (tl_db_open(path, &db, err, sizeof(err)) != 0)
        return;
    if (tl_load_run(db, &run) == 0) {
        tl_load_suppress(&run, NULL, 0);
        tl_report_write(out, &run);
        tl_export_json(out, &run);
    }
    tl_load_free(&run);
    tl_db_close(db);
}

/* What the dashboard reads before it draws. */
static void load_model(const char *path)
{
    struct tl_db *db = NULL;
    struct tl_model m;
    char err[512];

    if (tl_db_open(path, &db, err, sizeof(err)) != 0)
        return;
    tl_model_load(db, &m);
    tl_model_free(&m);
    tl_db_close(db);
}

void tl_fuzz_view(const char *path)
{
    static FILE *devnull;

    if (!devnull && !(devnull = fopen("/dev/null", "w")))
        return;
    load_and_render(path, devnull);
    load_model(path);
    tl_symbolize_reset();
}
