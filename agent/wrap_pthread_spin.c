/*
 * wrap_pthread_spin.c - interposers for pthread spinlocks: init, destroy,
 * lock, trylock, unlock. A spinlock is a write-mode lock like a mutex; glibc
 * keeps no owner, so relock and unlock checks rest on the held stack alone.
 */
#include <errno.h>
#include <pthread.h>

#include "export.h"
#include "lockops.h"
#include "real.h"
#include "thread.h"
#include "wait.h"

TL_EXPORT int pthread_spin_init(pthread_spinlock_t *s, int pshared)
{
    struct tl_thread *self = tl_enter();
    if (self)
        tl_lockops_retire(self, (const void *)s);
    return TL_REAL(spin_init)(s, pshared);
}

TL_EXPORT int pthread_spin_destroy(pthread_spinlock_t *s)
{
    struct tl_thread *self = tl_enter();
    if (self)
        tl_lockops_before_destroy(self, (const void *)s, TL_LOCK_SPIN, &TL_CALLER());
    int rc = TL_REAL(spin_destroy)(s);
    if (self && rc == 0)
        tl_lockops_retire(self, (const void *)s);
    return rc;
}

TL_EXPORT int pthread_spin_lock(pthread_spinlock_t *s)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(spin_lock)(s);
    struct tl_caller caller = TL_CALLER();
    struct tl_lock *l = tl_lockops_lock(self, (const void *)s, TL_LOCK_SPIN);
    struct tl_held *held =
        tl_lockops_before_block(self, l, (const void *)s, TL_LOCK_SPIN, TL_MODE_WRITE, &caller);
    int rc = TL_REAL(spin_trylock)(s);
    if (rc == EBUSY) {
        int64_t since = tl_lockops_contended(self, l);
        int waited = tl_wait_begin(self, TL_WAIT_SPIN, (const void *)s, caller.pc);
        rc = TL_REAL(spin_lock)(s);
        tl_wait_end(self, waited);
        tl_lockops_waited(l, since);
    }
    if (rc == 0)
        tl_lockops_acquired(self, l, (const void *)s, TL_MODE_WRITE, TL_ACQ_ORDERED, &caller,
                            held);
    return rc;
}

TL_EXPORT int pthread_spin_trylock(pthread_spinlock_t *s)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(spin_trylock)(s);
    struct tl_caller caller = TL_CALLER();
    struct tl_lock *l = tl_lockops_lock(self, (const void *)s, TL_LOCK_SPIN);
    int rc = TL_REAL(spin_trylock)(s);
    if (rc == 0)
        tl_lockops_acquired(self, l, (const void *)s, TL_MODE_WRITE, TL_ACQ_TRYLOCK, &caller,
                            tl_lockops_find_held(self, (const void *)s));
    return rc;
}

TL_EXPORT int pthread_spin_unlock(pthread_spinlock_t *s)
{
    struct tl_thread *self = tl_enter();
    if (self)
        tl_lockops_release(self, (const void *)s, TL_LOCK_SPIN, &TL_CALLER());
    return TL_REAL(spin_unlock)(s);
}
