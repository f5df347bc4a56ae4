/*
 * alert.h - on_finding=CMD: for each new finding that is not suppressed,
 * run `/bin/sh -c CMD` with the finding as one line of JSON on its standard
 * input (kind, severity, summary, pid, time_ns, db, stacks of frames with
 * function, module and offset), so a team can page or log it.
 *
 * The collector must never wait for a command: it is started with
 * posix_spawn (not fork, which would run the program's and the agent's
 * pthread_atfork handlers on the collector thread), its input is written
 * to a non-blocking pipe before it starts (the line fits in the pipe
 * buffer) and closed; stdout and stderr go to /dev/null; it runs without
 * the agent (LD_PRELOAD entries naming libthreadlens and THREADLENS_OPTIONS
 * are removed from its environment). Finished commands are reaped with
 * WNOHANG on later ticks; at the process end the agent waits for running
 * ones one second at most. At most TL_ALERT_MAX_RUNNING commands run at
 * once; findings beyond that are dropped, counted, and logged once.
 *
 * Collector thread only (and the exit flush), under collector_lock. State:
 * static tables, no allocation.
 */
#ifndef TL_ALERT_H
#define TL_ALERT_H

struct tl_finding;

#define TL_ALERT_MAX_RUNNING 4

/*
 * A new finding is being written: queue its command, started after the tick
 * commits, unless the finding turned out suppressed (or was not written).
 */
void tl_alert_finding(const struct tl_finding *f);
/* After a commit: reaps finished commands, starts the queued ones. */
void tl_alert_tick(void);
/* The process ends: starts the queued commands, waits a bounded time for running ones. */
void tl_alert_finish(void);
/* Findings dropped because too many commands were running (for tests and the log). */
unsigned tl_alert_dropped(void);

#endif
