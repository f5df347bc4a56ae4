/*
 * detect_thread_leak.h - `thread-leak` at exit: threads that finished but
 * were never joined nor detached (zombies keeping their stacks), and joinable
 * threads still alive when the process exits. Detached and joined threads,
 * the main thread, the thread calling exit, and threads the agent did not
 * see created are never reported. Threads from one creation site form one
 * finding that lists them all. Collector (exit flush) only; O(threads).
 */
#ifndef TL_DETECT_THREAD_LEAK_H
#define TL_DETECT_THREAD_LEAK_H

#include "waitgraph.h"

void tl_thread_leak_at_exit(const struct tl_waitgraph *g, const struct tl_thread *exiting);

#endif
