/*
 * wrap_pthread_mutex.c - interposers for pthread mutexes: init, destroy, lock,
 * trylock, timedlock, clocklock, unlock. Normal, recursive, errorcheck and
 * robust mutexes, and static initialisers never passed to init.
 *
 * A blocking lock first tries the real trylock: when it succeeds (the common,
 * uncontended case) it costs what the lock would have; when the mutex is
 * busy the acquisition is counted as contended and the real blocking call
 * follows. Any other trylock answer (a PI or PP mutex quirk) falls through to
 * the real blocking call, so the program always gets the real call's result.
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "export.h"
#include "lockops.h"
#include "real.h"
#include "thread.h"

static int acquired(int rc)
{
    return rc == 0 || rc == EOWNERDEAD;
}

static struct tl_lock *before(struct tl_thread *self, pthread_mutex_t *m, struct tl_caller caller)
{
    struct tl_lock *l = tl_lockops_lock(self, m, TL_LOCK_MUTEX);
    tl_lockops_before_block(self, m, TL_LOCK_MUTEX, TL_MODE_WRITE, caller);
    return l;
}

static int after(struct tl_thread *self, struct tl_lock *l, pthread_mutex_t *m, int rc,
                 int trylock, struct tl_caller caller)
{
    if (acquired(rc))
        tl_lockops_acquired(self, l, m, TL_MODE_WRITE, trylock, caller);
    return rc;
}

/* Returns the trylock's result when it settles the call, or -1 when the caller must block. */
static int try_first(struct tl_thread *self, struct tl_lock *l, pthread_mutex_t *m)
{
    int rc = TL_REAL(mutex_trylock)(m);
    if (acquired(rc))
        return rc;
    if (rc == EBUSY)
        tl_lockops_contended(self, l);
    return -1;
}

enum block_how { BLOCK_PLAIN, BLOCK_TIMED, BLOCK_CLOCK };

static int lock_blocking(struct tl_thread *self, pthread_mutex_t *m, enum block_how how,
                         clockid_t clock, const struct timespec *abstime, struct tl_caller caller)
{
    struct tl_lock *l = before(self, m, caller);
    int rc = try_first(self, l, m);
    if (rc < 0) {
        switch (how) {
        case BLOCK_TIMED: rc = TL_REAL(mutex_timedlock)(m, abstime); break;
        case BLOCK_CLOCK: rc = TL_REAL(mutex_clocklock)(m, clock, abstime); break;
        default: rc = TL_REAL(mutex_lock)(m); break;
        }
    }
    return after(self, l, m, rc, 0, caller);
}

TL_EXPORT int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *attr)
{
    struct tl_thread *self = tl_enter();
    if (self)
        tl_lockops_retire(self, m);
    return TL_REAL(mutex_init)(m, attr);
}

TL_EXPORT int pthread_mutex_destroy(pthread_mutex_t *m)
{
    struct tl_thread *self = tl_enter();
    if (self)
        tl_lockops_before_destroy(self, m, TL_LOCK_MUTEX, TL_CALLER());
    int rc = TL_REAL(mutex_destroy)(m);
    if (self && rc == 0)
        tl_lockops_retire(self, m);
    return rc;
}

TL_EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(mutex_lock)(m);
    return lock_blocking(self, m, BLOCK_PLAIN, 0, NULL, TL_CALLER());
}

TL_EXPORT int pthread_mutex_trylock(pthread_mutex_t *m)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(mutex_trylock)(m);
    struct tl_caller caller = TL_CALLER();
    struct tl_lock *l = tl_lockops_lock(self, m, TL_LOCK_MUTEX);
    return after(self, l, m, TL_REAL(mutex_trylock)(m), 1, caller);
}

TL_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *abstime)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(mutex_timedlock)(m, abstime);
    return lock_blocking(self, m, BLOCK_TIMED, 0, abstime, TL_CALLER());
}

TL_EXPORT int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clock,
                                      const struct timespec *abstime)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(mutex_clocklock)(m, clock, abstime);
    return lock_blocking(self, m, BLOCK_CLOCK, clock, abstime, TL_CALLER());
}

TL_EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
    struct tl_thread *self = tl_enter();
    if (self)
        tl_lockops_release(self, m, TL_LOCK_MUTEX, TL_CALLER());
    return TL_REAL(mutex_unlock)(m);
}
