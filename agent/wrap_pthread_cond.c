/*
 * wrap_pthread_cond.c - interposers for pthread_cond_wait, _timedwait and
 * _clockwait. The mutex is released for the wait and re-taken after it, so
 * the held stack drops it before the real call and takes it back after:
 * waiting on a condvar while holding another lock that the signaller needs
 * shows up as the lock-order cycle it is. signal and broadcast need no
 * wrapper (they take no lock the program sees).
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "export.h"
#include "lockops.h"
#include "real.h"
#include "thread.h"
#include "wait.h"

enum wait_how { WAIT_PLAIN, WAIT_TIMED, WAIT_CLOCK };

/* EINVAL and EPERM mean the wait never started, so the mutex was never released. */
static int reacquired(int rc)
{
    return rc != EINVAL && rc != EPERM;
}

static int cond_wait(struct tl_thread *self, pthread_cond_t *c, pthread_mutex_t *m,
                     enum wait_how how, clockid_t clock, const struct timespec *abstime,
                     const struct tl_caller *caller)
{
    tl_lockops_release(self, m, TL_LOCK_MUTEX, caller);
    int rc;
    int waited = tl_wait_begin(self, TL_WAIT_COND, c, caller->pc);
    switch (how) {
    case WAIT_TIMED: rc = TL_REAL(cond_timedwait)(c, m, abstime); break;
    case WAIT_CLOCK: rc = TL_REAL(cond_clockwait)(c, m, clock, abstime); break;
    default: rc = TL_REAL(cond_wait)(c, m); break;
    }
    tl_wait_end(self, waited);
    if (reacquired(rc)) {
        struct tl_lock *l = tl_lockops_lock(self, m, TL_LOCK_MUTEX);
        tl_lockops_acquired(self, l, m, TL_MODE_WRITE, 0, caller, tl_lockops_find_held(self, m));
    }
    return rc;
}

TL_EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(cond_wait)(c, m);
    return cond_wait(self, c, m, WAIT_PLAIN, 0, NULL, &TL_CALLER());
}

TL_EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
                                     const struct timespec *abstime)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(cond_timedwait)(c, m, abstime);
    return cond_wait(self, c, m, WAIT_TIMED, 0, abstime, &TL_CALLER());
}

TL_EXPORT int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clock,
                                     const struct timespec *abstime)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(cond_clockwait)(c, m, clock, abstime);
    return cond_wait(self, c, m, WAIT_CLOCK, clock, abstime, &TL_CALLER());
}
