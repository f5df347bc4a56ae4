/*
 * threadlens.h - the threadlens task API: tell threadlens when a unit of work
 * (a job, a request, a callback on a pool) is queued, starts, and ends, so it
 * can show tasks in flight, how long they waited and ran, and report tasks
 * that never end (`task-leak`).
 *
 * Header only, nothing to link. Each function is an inline wrapper that calls
 * the agent through a weak reference: without the agent loaded (the program
 * runs bare) the reference is null and every call is a test and a branch;
 * threadlens_task_submit() then returns 0. Under `threadlens run`, the agent
 * (libthreadlens.so, preloaded) provides the implementation.
 *
 * Contract:
 *  - A threadlens_task is an opaque handle. 0 means "no task": submit returns
 *    0 when the agent is not loaded, is not recording, or has run out of task
 *    records; passing 0 to any other call is ignored. Never build a handle.
 *  - Life: submit (queued) -> start (running) -> end. A task may be ended
 *    without being started (cancelled while queued). start and end may be
 *    called on any thread, not only the one that submitted the task; a pool
 *    typically submits on the producer and starts and ends on a worker.
 *  - After threadlens_task_end() the handle is dead: later calls with it are
 *    ignored, even once the agent reuses its record for another task. A
 *    second start or end of one task is ignored too. Calling with a handle
 *    concurrently with its end is a program bug; it cannot crash the agent.
 *  - All functions are thread-safe. They never block, never allocate through
 *    malloc and take no lock in the steady state: a call costs a clock read
 *    and a few atomic operations (plus, for the first submit from each call
 *    site on each thread, one stack capture). They preserve errno. They are
 *    not meant for signal handlers: a call there may be ignored.
 *  - Names are copied (at most 31 bytes); NULL means unnamed.
 *  - A task queued or started and never ended is reported at exit as a
 *    `task-leak` finding, grouped by the place it was submitted from.
 *  - After fork, the child starts with no tasks: handles from before the fork
 *    are dead in the child.
 *
 * Build note: a weak reference is bound when the program is loaded only in
 * position-independent code (-fPIE or -fPIC, the default of GCC and Clang on
 * current distributions; linking with -no-pie is fine). In code compiled
 * with -fno-pie the linker binds it to null, and the calls stay no-ops even
 * under the agent.
 *
 * Capacity: the agent keeps at most 131072 tasks open or not yet written to
 * its database at once; past that, threadlens_task_submit() returns 0 (the
 * task is counted in the totals, not tracked) and the agent says so once.
 */
#ifndef THREADLENS_H
#define THREADLENS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A task handle: opaque, 0 = none. */
typedef uint64_t threadlens_task;

/*
 * The agent's entry points. Call the threadlens_task_* wrappers below, not
 * these. The agent itself defines THREADLENS_AGENT_BUILD so that its
 * definitions are not weak.
 */
#ifdef THREADLENS_AGENT_BUILD
#define THREADLENS_WEAK_
#else
#define THREADLENS_WEAK_ __attribute__((weak))
#endif
extern threadlens_task threadlens_task_submit_impl(const char *name) THREADLENS_WEAK_;
extern void threadlens_task_start_impl(threadlens_task task) THREADLENS_WEAK_;
extern void threadlens_task_end_impl(threadlens_task task) THREADLENS_WEAK_;
extern void threadlens_task_name_impl(threadlens_task task, const char *name) THREADLENS_WEAK_;
#undef THREADLENS_WEAK_

#ifndef THREADLENS_AGENT_BUILD
/*
 * Always inlined, so the agent sees the calling function as its caller: the
 * submit stack starts in the program's own code, even at -O0.
 */
#define THREADLENS_INLINE_ static inline __attribute__((always_inline, unused))

/* Queues a new task named `name` (copied; NULL = unnamed). Returns its handle, or 0. */
THREADLENS_INLINE_ threadlens_task threadlens_task_submit(const char *name)
{
    return threadlens_task_submit_impl ? threadlens_task_submit_impl(name) : 0;
}

/* The task starts running on the calling thread. Ignored for 0 or a dead handle. */
THREADLENS_INLINE_ void threadlens_task_start(threadlens_task task)
{
    if (threadlens_task_start_impl && task)
        threadlens_task_start_impl(task);
}

/* The task is done (or cancelled, when it never started). The handle is dead afterwards. */
THREADLENS_INLINE_ void threadlens_task_end(threadlens_task task)
{
    if (threadlens_task_end_impl && task)
        threadlens_task_end_impl(task);
}

/* Renames a queued or running task (copied, at most 31 bytes; NULL clears the name). */
THREADLENS_INLINE_ void threadlens_task_name(threadlens_task task, const char *name)
{
    if (threadlens_task_name_impl && task)
        threadlens_task_name_impl(task, name);
}

#undef THREADLENS_INLINE_
#endif /* !THREADLENS_AGENT_BUILD */

#ifdef __cplusplus
}
#endif

#endif
