/*
 * wrap_c11_mtx.c - interposers for C11 <threads.h> mutexes and condition
 * variables: mtx_init, mtx_destroy, mtx_lock, mtx_trylock, mtx_timedlock,
 * mtx_unlock, cnd_wait, cnd_timedwait. glibc implements them on pthread
 * mutexes without going through the pthread symbols, so they need wrappers
 * of their own. Lock kind: c11-mutex.
 */
#include <pthread.h>
#include <threads.h>
#include <time.h>

#include "export.h"
#include "lockops.h"
#include "real.h"
#include "thread.h"
#include "wait.h"

TL_EXPORT int mtx_init(mtx_t *m, int type)
{
    struct tl_thread *self = tl_enter();
    if (self)
        tl_lockops_retire(self, m);
    return TL_REAL(mtx_init)(m, type);
}

TL_EXPORT void mtx_destroy(mtx_t *m)
{
    struct tl_thread *self = tl_enter();
    if (self)
        tl_lockops_before_destroy(self, m, TL_LOCK_C11, &TL_CALLER());
    TL_REAL(mtx_destroy)(m);
    if (self)
        tl_lockops_retire(self, m);
}

static int lock_blocking(struct tl_thread *self, mtx_t *m, const struct timespec *abstime,
                         const struct tl_caller *caller)
{
    struct tl_lock *l = tl_lockops_lock(self, m, TL_LOCK_C11);
    struct tl_held *held = tl_lockops_before_block(self, l, m, TL_LOCK_C11, TL_MODE_WRITE, caller);
    /*
     * mtx_t is a pthread mutex in glibc: its lock word says whether we will
     * wait. Only then is the wait recorded (see wrap_pthread_mutex.c).
     */
    int waited = 0;
    int64_t since = 0;
    if (*(const volatile int *)&((const pthread_mutex_t *)(const void *)m)->__data.__lock != 0) {
        since = tl_lockops_contended(self, l);
        waited = tl_wait_begin(self, TL_WAIT_C11_MUTEX, m, caller->pc);
    }
    int rc = abstime ? TL_REAL(mtx_timedlock)(m, abstime) : TL_REAL(mtx_lock)(m);
    tl_wait_end(self, waited);
    if (since)
        tl_lockops_waited(l, since);
    if (rc == thrd_success)
        tl_lockops_acquired(self, l, m, TL_MODE_WRITE, TL_ACQ_ORDERED, caller, held);
    return rc;
}

TL_EXPORT int mtx_lock(mtx_t *m)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(mtx_lock)(m);
    return lock_blocking(self, m, NULL, &TL_CALLER());
}

TL_EXPORT int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict abstime)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(mtx_timedlock)(m, abstime);
    return lock_blocking(self, m, abstime, &TL_CALLER());
}

TL_EXPORT int mtx_trylock(mtx_t *m)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(mtx_trylock)(m);
    struct tl_caller caller = TL_CALLER();
    struct tl_lock *l = tl_lockops_lock(self, m, TL_LOCK_C11);
    int rc = TL_REAL(mtx_trylock)(m);
    if (rc == thrd_success)
        tl_lockops_acquired(self, l, m, TL_MODE_WRITE, TL_ACQ_TRYLOCK, &caller,
                            tl_lockops_find_held(self, m));
    return rc;
}

TL_EXPORT int mtx_unlock(mtx_t *m)
{
    struct tl_thread *self = tl_enter();
    if (self)
        tl_lockops_release(self, m, TL_LOCK_C11, &TL_CALLER());
    return TL_REAL(mtx_unlock)(m);
}

static int cnd_wait_common(struct tl_thread *self, cnd_t *c, mtx_t *m,
                           const struct timespec *abstime, const struct tl_caller *caller)
{
    tl_lockops_release(self, m, TL_LOCK_C11, caller);
    int waited = tl_wait_begin(self, TL_WAIT_COND, c, caller->pc);
    int rc = abstime ? TL_REAL(cnd_timedwait)(c, m, abstime) : TL_REAL(cnd_wait)(c, m);
    tl_wait_end(self, waited);
    if (rc == thrd_success || rc == thrd_timedout) {
        struct tl_lock *l = tl_lockops_lock(self, m, TL_LOCK_C11);
        tl_lockops_acquired(self, l, m, TL_MODE_WRITE, 0, caller, tl_lockops_find_held(self, m));
    }
    return rc;
}

TL_EXPORT int cnd_wait(cnd_t *c, mtx_t *m)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(cnd_wait)(c, m);
    return cnd_wait_common(self, c, m, NULL, &TL_CALLER());
}

TL_EXPORT int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m,
                            const struct timespec *restrict abstime)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(cnd_timedwait)(c, m, abstime);
    return cnd_wait_common(self, c, m, abstime, &TL_CALLER());
}
