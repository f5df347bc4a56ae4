/*
 * prog_util.h - helpers shared by the sample programs in tests/programs/.
 *
 * Each program is one small, deterministic scenario. tests/integration/
 * check_run.py runs it bare and under `threadlens run` and compares the
 * findings with <name>.expect. The conflicting lock orders run one after
 * another, so nothing deadlocks, except in the deadlock_* programs, which
 * deadlock on purpose (their .expect says `hangs`, or a timed lock breaks
 * the cycle).
 *
 * A pthread call that fails where the scenario needs it to succeed means the
 * test itself is broken, not that threadlens found something: CHECK() says so
 * on stderr and aborts. Header only, usable from C17 and C++17.
 */
#ifndef TL_PROG_UTIL_H
#define TL_PROG_UTIL_H

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keep scenario functions out-of-line so they show up in stacks by name. */
#define NOINLINE __attribute__((noinline))

/* For calls that return 0 or an error number (pthread_*). */
#define CHECK(call)                                                                      \
    do {                                                                                 \
        int check_rc_ = (call);                                                          \
        if (check_rc_ != 0) {                                                            \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call,                \
                    strerror(check_rc_));                                                \
            abort();                                                                     \
        }                                                                                \
    } while (0)

/* For calls that return 0, or -1 and set errno (sem_*). */
#define CHECK_ERRNO(call)                                                                \
    do {                                                                                 \
        if ((call) != 0) {                                                               \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call,                \
                    strerror(errno));                                                    \
            abort();                                                                     \
        }                                                                                \
    } while (0)

/* For conditions the scenario relies on (assert() vanishes under NDEBUG). */
#define REQUIRE(cond)                                                                    \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "%s:%d: requirement failed: %s\n", __FILE__, __LINE__,       \
                    #cond);                                                              \
            abort();                                                                     \
        }                                                                                \
    } while (0)

/* Waits at the barrier (either successful return counts). Aborts on error. */
static inline void barrier_wait(pthread_barrier_t *barrier)
{
    int rc = pthread_barrier_wait(barrier);
    if (rc != PTHREAD_BARRIER_SERIAL_THREAD)
        CHECK(rc);
}

/*
 * Runs fn(arg) on a new thread and joins it before returning, so scenarios
 * run their threads strictly one after another. Aborts on failure.
 */
static inline void run_thread(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    CHECK(pthread_create(&t, NULL, fn, arg));
    CHECK(pthread_join(t, NULL));
}

#endif
