/*
 * wrap_pthread_rwlock.c - interposers for pthread rwlocks: init, destroy,
 * rdlock, tryrdlock, timedrdlock, clockrdlock, wrlock, trywrlock,
 * timedwrlock, clockwrlock, unlock. Read holds are mode READ, write holds
 * mode WRITE; the lock-order search knows two readers never block each other.
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "export.h"
#include "lockops.h"
#include "real.h"
#include "thread.h"
#include "wait.h"

static int after(struct tl_thread *self, struct tl_lock *l, pthread_rwlock_t *rw, int mode,
                 int rc, int flags, const struct tl_caller *caller, struct tl_held *held)
{
    if (rc == 0)
        tl_lockops_acquired(self, l, rw, mode, flags, caller, held);
    return rc;
}

/*
 * Contention is read off glibc's rwlock words before the real call (a writer
 * holds it, or, for a writer, readers do): trying first would cost a second
 * atomic on every uncontended acquisition.
 */
static int64_t note_contention(struct tl_thread *self, struct tl_lock *l, pthread_rwlock_t *rw,
                               int mode)
{
    const volatile pthread_rwlock_t *v = rw;
    if (v->__data.__cur_writer != 0 || (mode == TL_MODE_WRITE && (v->__data.__readers >> 3) != 0))
        return tl_lockops_contended(self, l);
    return 0;
}

enum block_how { BLOCK_PLAIN, BLOCK_TIMED, BLOCK_CLOCK };

static int real_block(pthread_rwlock_t *rw, int mode, enum block_how how, clockid_t clock,
                      const struct timespec *abstime)
{
    if (mode == TL_MODE_READ) {
        switch (how) {
        case BLOCK_TIMED: return TL_REAL(rwlock_timedrdlock)(rw, abstime);
        case BLOCK_CLOCK: return TL_REAL(rwlock_clockrdlock)(rw, clock, abstime);
        default: return TL_REAL(rwlock_rdlock)(rw);
        }
    }
    switch (how) {
    case BLOCK_TIMED: return TL_REAL(rwlock_timedwrlock)(rw, abstime);
    case BLOCK_CLOCK: return TL_REAL(rwlock_clockwrlock)(rw, clock, abstime);
    default: return TL_REAL(rwlock_wrlock)(rw);
    }
}

static int lock_blocking(struct tl_thread *self, pthread_rwlock_t *rw, int mode,
                         enum block_how how, clockid_t clock, const struct timespec *abstime,
                         const struct tl_caller *caller)
{
    struct tl_lock *l = tl_lockops_lock(self, rw, TL_LOCK_RWLOCK);
    struct tl_held *held = tl_lockops_before_block(self, l, rw, TL_LOCK_RWLOCK, mode, caller);
    int64_t since = note_contention(self, l, rw, mode);
    int kind = mode == TL_MODE_READ ? TL_WAIT_RWLOCK_READ : TL_WAIT_RWLOCK_WRITE;
    int waited = tl_wait_begin(self, kind, rw, caller->pc);
    int rc = real_block(rw, mode, how, clock, abstime);
    tl_wait_end(self, waited);
    if (since)
        tl_lockops_waited(l, since);
    return after(self, l, rw, mode, rc, TL_ACQ_ORDERED, caller, held);
}

static int lock_try(struct tl_thread *self, pthread_rwlock_t *rw, int mode,
                    const struct tl_caller *caller)
{
    struct tl_lock *l = tl_lockops_lock(self, rw, TL_LOCK_RWLOCK);
    int rc = mode == TL_MODE_READ ? TL_REAL(rwlock_tryrdlock)(rw) : TL_REAL(rwlock_trywrlock)(rw);
    return after(self, l, rw, mode, rc, TL_ACQ_TRYLOCK, caller, tl_lockops_find_held(self, rw));
}

TL_EXPORT int pthread_rwlock_init(pthread_rwlock_t *rw, const pthread_rwlockattr_t *attr)
{
    struct tl_thread *self = tl_enter();
    if (self)
        tl_lockops_retire(self, rw);
    return TL_REAL(rwlock_init)(rw, attr);
}

TL_EXPORT int pthread_rwlock_destroy(pthread_rwlock_t *rw)
{
    struct tl_thread *self = tl_enter();
    if (self)
        tl_lockops_before_destroy(self, rw, TL_LOCK_RWLOCK, &TL_CALLER());
    int rc = TL_REAL(rwlock_destroy)(rw);
    if (self && rc == 0)
        tl_lockops_retire(self, rw);
    return rc;
}

TL_EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *rw)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(rwlock_rdlock)(rw);
    return lock_blocking(self, rw, TL_MODE_READ, BLOCK_PLAIN, 0, NULL, &TL_CALLER());
}

TL_EXPORT int pthread_rwlock_tryrdlock(pthread_rwlock_t *rw)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(rwlock_tryrdlock)(rw);
    return lock_try(self, rw, TL_MODE_READ, &TL_CALLER());
}

TL_EXPORT int pthread_rwlock_timedrdlock(pthread_rwlock_t *rw, const struct timespec *abstime)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(rwlock_timedrdlock)(rw, abstime);
    return lock_blocking(self, rw, TL_MODE_READ, BLOCK_TIMED, 0, abstime, &TL_CALLER());
}

TL_EXPORT int pthread_rwlock_clockrdlock(pthread_rwlock_t *rw, clockid_t clock,
                                         const struct timespec *abstime)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(rwlock_clockrdlock)(rw, clock, abstime);
    return lock_blocking(self, rw, TL_MODE_READ, BLOCK_CLOCK, clock, abstime,
                         &TL_CALLER());
}

TL_EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *rw)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(rwlock_wrlock)(rw);
    return lock_blocking(self, rw, TL_MODE_WRITE, BLOCK_PLAIN, 0, NULL, &TL_CALLER());
}

TL_EXPORT int pthread_rwlock_trywrlock(pthread_rwlock_t *rw)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(rwlock_trywrlock)(rw);
    return lock_try(self, rw, TL_MODE_WRITE, &TL_CALLER());
}

TL_EXPORT int pthread_rwlock_timedwrlock(pthread_rwlock_t *rw, const struct timespec *abstime)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(rwlock_timedwrlock)(rw, abstime);
    return lock_blocking(self, rw, TL_MODE_WRITE, BLOCK_TIMED, 0, abstime, &TL_CALLER());
}

TL_EXPORT int pthread_rwlock_clockwrlock(pthread_rwlock_t *rw, clockid_t clock,
                                         const struct timespec *abstime)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(rwlock_clockwrlock)(rw, clock, abstime);
    return lock_blocking(self, rw, TL_MODE_WRITE, BLOCK_CLOCK, clock, abstime,
                         &TL_CALLER());
}

TL_EXPORT int pthread_rwlock_unlock(pthread_rwlock_t *rw)
{
    struct tl_thread *self = tl_enter();
    if (self)
        tl_lockops_release(self, rw, TL_LOCK_RWLOCK, &TL_CALLER());
    return TL_REAL(rwlock_unlock)(rw);
}
