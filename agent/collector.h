/*
 * collector.h - the agent's own thread. Every `interval` it takes the
 * publish queue and writes it, with a sample and re-evaluated finding
 * severities, in one SQLite transaction; between ticks, a queue that grew
 * long is written in drain passes. Application threads never wait for it:
 * they only push to the queue. collector_lock (a real, uninterposed
 * mutex) serialises the ticks with the exit and exec flushes, which run on
 * whichever thread is leaving.
 */
#ifndef TL_COLLECTOR_H
#define TL_COLLECTOR_H

#include "store.h"

/*
 * Opens the database and starts the thread. Returns 0 or a negative TL_E*.
 * With `defer_open` the thread starts first and opens the database itself
 * (or the exit or exec flush does, if it comes first), so the program does
 * not wait the few milliseconds a new database takes; a failure then says so
 * in one line and turns the agent off.
 */
int tl_collector_start(const char *db, const struct tl_process_info *info, int defer_open);
/* Turns the agent on (tl_active) after a start, unless a deferred open has failed. */
void tl_collector_activate(void);
/* Last flush before the process ends: writes everything and the process end, prints the summary. */
void tl_collector_finish(int status, const char *reason);
/* Before exec: writes everything; the process row says it ended by exec. */
void tl_collector_flush_for_exec(void);
/* exec failed: the process goes on. */
void tl_collector_exec_failed(void);
/*
 * Before fork: a deferred open is finished first, so that the child never
 * inherits SQLite halfway through opening a file (its global locks held).
 */
void tl_collector_fork_prepare(void);
/* Fork child: forget the parent's thread and connection; start again on first need. */
void tl_collector_after_fork_child(void);
/* Fork child: starts the collector if it was not started yet in this process. */
void tl_collector_ensure_started(void);
/* A termination signal arrived (signal handler context): flush, then tl_signals_flushed(). */
void tl_collector_on_signal(int signal);
/* Every application thread has exited (the main one by pthread_exit). */
void tl_collector_all_threads_exited(void);
/* threadlens detach: last tick, process row ended as "detach", collector thread gone. */
void tl_collector_detach(void);
/* threadlens attach after a detach: same database and process row, a new collector thread. */
int tl_collector_resume(void);
/* A late attach: the heap's bytes at that moment (its later frees are counted). */
void tl_collector_set_heap_baseline(int64_t bytes);

#endif
