/*
 * attach.h - `threadlens attach PID` and `threadlens detach PID`: load the
 * agent into a running process and start recording, or stop it again. Exit
 * status: 0 done, 1 refused or failed (one line says why and what to do),
 * 2 usage error. Runs in the tool's only thread.
 */
#ifndef TL_ATTACH_H
#define TL_ATTACH_H

#include <stdio.h>

void tl_attach_usage(FILE *pOut);
int tl_attach_main(int argc, char **argv);
int tl_detach_main(int argc, char **argv);

#endif
