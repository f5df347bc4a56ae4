/*
 * fuzz_options.c - libFuzzer harness for the agent's option parser
 * (agent/options.c, THREADLENS_OPTIONS and `threadlens run -o`). The input is
 * the option string. Any outcome but a crash or a sanitizer report is fine,
 * and afterwards every option must hold a value in its documented range: a
 * bad entry keeps the default.
 *
 * Inputs naming log_path or suppressions are skipped: those open files named
 * by the input, which would litter the file system without testing the parser
 * any further (tests/agent covers them).
 */
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "options.h"

static int in_range(void)
{
    const struct tl_options *o = &tl_options;

    return o->interval >= 0.01 && o->interval <= 3600 && o->stacks >= 1 && o->stacks <= 64 &&
           o->block_threshold >= 0.01 && o->sample_bytes >= 1 && o->exitcode >= -1 &&
           o->exitcode <= 255 && (o->stack_signal == 0 || o->stack_signal >= SIGRTMIN) &&
           o->stack_signal <= SIGRTMAX && o->trend_window >= 1 &&
           o->trend_alpha > 0 && o->trend_alpha <= 0.5 && !isnan(o->max_heap) &&
           !isnan(o->max_threads) && strlen(o->db) < sizeof(o->db);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *spec = malloc(size + 1);

    if (!spec)
        return 0;
    memcpy(spec, data, size);
    spec[size] = '\0';
    if (strstr(spec, "log_path") || strstr(spec, "suppressions")) {
        free(spec);
        return 0;
    }
    tl_log_set_level(TL_LOG_QUIET);
    tl_options_parse(spec);
    if (!in_range())
        abort();
    free(spec);
    return 0;
}
