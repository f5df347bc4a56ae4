/*
 * fake_agent.c - a stand-in agent with the agent's entry points, to test
 * the injector alone. threadlens_attach(options) appends "attach OPTIONS" to
 * the file named by its db= option plus ".log" and returns 0, or 1 when it is
 * already "recording", or -5 when the options hold fail=1;
 * threadlens_detach appends "detach" and stops "recording".
 */
#include <stdio.h>
#include <string.h>

static char zLog[4200];  /* only the loader thread of one injection touches these */
static int recording;

static void log_line(const char *zWhat, const char *zOptions)
{
    FILE *pOut = fopen(zLog, "a");
    if (pOut != NULL) {
        fprintf(pOut, "%s %s\n", zWhat, zOptions);
        fclose(pOut);
    }
}

__attribute__((visibility("default"))) int threadlens_attach(const char *zOptions)
{
    const char *zDb = strstr(zOptions, "db=");
    if (zDb != NULL) {
        snprintf(zLog, sizeof(zLog), "%.*s.log", (int)strcspn(zDb + 3, ":"), zDb + 3);
    }
    log_line("attach", zOptions);
    if (strstr(zOptions, "fail=1") != NULL) {
        return -5;
    }
    if (recording) {
        return 1;
    }
    recording = 1;
    return 0;
}

__attribute__((visibility("default"))) void *threadlens_detach(void *pUnused)
{
    (void)pUnused;
    log_line("detach", "-");
    recording = 0;
    return NULL;
}
