/*
 * main.c - `threadlens`, the launcher: dispatches subcommands. Each
 * subcommand lives in its own file (run.c, attach.c) and returns the exit
 * status.
 */
#include <stdio.h>
#include <string.h>

#include "attach.h"
#include "run.h"

#ifndef TL_VERSION
#define TL_VERSION "unknown"
#endif

#define TL_EXIT_USAGE 2

static void usage(FILE *pOut)
{
    fprintf(pOut,
            "usage: threadlens run [--db FILE] [-o key=value ...] [--] PROG [ARGS...]\n"
            "       threadlens attach [--db FILE] [-o key=value ...] PID\n"
            "       threadlens detach PID\n"
            "       threadlens --help | --version\n"
            "\n"
            "threadlens records what the threads of PROG do (threads, locks, lock order)\n"
            "into a SQLite database; read it with threadlens-top. attach starts recording\n"
            "a program that is already running, detach stops it again.\n"
            "Run `threadlens run --help` or `threadlens attach --help` for their options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return TL_EXIT_USAGE;
    }
    const char *zCmd = argv[1];
    if (strcmp(zCmd, "-h") == 0 || strcmp(zCmd, "--help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(zCmd, "--version") == 0 || strcmp(zCmd, "-V") == 0) {
        printf("threadlens %s\n", TL_VERSION);
        return 0;
    }
    if (strcmp(zCmd, "run") == 0) {
        return tl_run_main(argc - 1, argv + 1);
    }
    if (strcmp(zCmd, "attach") == 0) {
        return tl_attach_main(argc - 1, argv + 1);
    }
    if (strcmp(zCmd, "detach") == 0) {
        return tl_detach_main(argc - 1, argv + 1);
    }
    fprintf(stderr, "threadlens: unknown command '%s'\n", zCmd);
    usage(stderr);
    return TL_EXIT_USAGE;
}
