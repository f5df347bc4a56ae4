/*
 * report.h - threadlens-top --report: a loaded run as text in the style of the
 * sanitizers (TSan's "WARNING: ThreadSanitizer: ..." blocks): one line per
 * process, one framed block per finding with its threads, locks and stacks,
 * and a closing count. Meant for people and for CI logs; scripts should read
 * --json. Reads only the struct tl_run. Control characters coming from the
 * database are printed as '?' so a thread name cannot drive the terminal.
 */
#ifndef TL_REPORT_H
#define TL_REPORT_H

#include <stdio.h>

#include "load.h"

void tl_report_write(FILE *out, const struct tl_run *run);
void tl_report_finding(FILE *out, const struct tl_finding *f);

#endif
