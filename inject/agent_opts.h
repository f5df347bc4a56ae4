/*
 * agent_opts.h - the command-line options that `run` and `attach` share
 * (--db FILE, -o key=value) and the agent option string built from them:
 * the inherited THREADLENS_OPTIONS, then db=<absolute path>, then each -o.
 * Used from the launcher's only thread; no state.
 */
#ifndef TL_AGENT_OPTS_H
#define TL_AGENT_OPTS_H

#include <stddef.h>
#include <stdio.h>

#define TL_EXIT_USAGE 2

/* What --db and -o asked for. Pointers point into argv. */
struct tl_agent_args {
    const char *zDb;    /* --db FILE or -o db=FILE; NULL: default name */
    const char **azOpt; /* -o key=value, in order, db= excluded */
    int nOpt;
};

int tl_agent_args_init(struct tl_agent_args *p, int argc);
int tl_agent_args_take(struct tl_agent_args *p, int argc, char **argv, int *pI);
void tl_agent_db_default(char *zOut, size_t nOut, const char *zProg, long pid);
int tl_agent_db_absolute(const char *zDb, char *zOut, size_t nOut);
int tl_agent_db_remove_old(const char *zDb);
void tl_agent_opts_write(FILE *pStr, const char *zDbAbs, const struct tl_agent_args *p);

#endif
