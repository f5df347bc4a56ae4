/*
 * signals.h - flush on termination signals. For SIGTERM, SIGINT and SIGHUP,
 * when the program leaves them at their default (it would die), the agent
 * installs a handler that wakes the collector to write everything it has,
 * waits for it (bounded: 5 s), then restores the default action and raises
 * the signal again, so the process dies of it exactly as it would have. A
 * program that installs its own handler later simply replaces ours.
 */
#ifndef TL_SIGNALS_H
#define TL_SIGNALS_H

void tl_signals_init(void);
/* The collector finished its flush: the handler may let the signal kill the process. */
void tl_signals_flushed(void);

#endif
