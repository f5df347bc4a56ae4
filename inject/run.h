/*
 * run.h - `threadlens run`: launch a program with the agent preloaded. Sets
 * LD_PRELOAD and THREADLENS_OPTIONS, prepares a fresh database file, then
 * replaces the launcher with the program (execvp, no fork), so the program
 * keeps the launcher's pid and its exit status is the command's own.
 */
#ifndef TL_RUN_H
#define TL_RUN_H

#include <stdio.h>

void tl_run_usage(FILE *pOut);
int tl_run_main(int argc, char **argv);

#endif
