/*
 * agent.h - start-up, shut-down and fork handling of libthreadlens.so. The
 * constructor reads the options, resolves the real functions, opens the
 * database and starts the collector; on any failure it says so in one line
 * and leaves the agent inactive, so the program runs as if it were not there.
 */
#ifndef TL_AGENT_H
#define TL_AGENT_H

/* Remembers the program's exit status for the process row (main's return or exit()). */
void tl_agent_set_exit_status(int status);

#include <stdint.h>

/*
 * Everything but switching the interposers on: options already parsed.
 * attach_ns 0: preloaded, before main; else a late attach that began then.
 * Returns 0, or -1 after saying why in one line.
 */
int tl_agent_start(int64_t attach_ns);

#endif
