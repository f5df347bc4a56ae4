/*
 * wrap_semaphore.c - interposers for the blocking semaphore calls (sem_wait,
 * sem_timedwait, sem_clockwait) and pthread_barrier_wait: each records what
 * the thread waits on for the wait-for graph and blocked-thread detection.
 * A semaphore has no owner, so these waits never close a deadlock cycle; they
 * can still be blocked too long. errno is the real call's.
 */
#include <pthread.h>
#include <semaphore.h>
#include <time.h>

#include "export.h"
#include "real.h"
#include "thread.h"
#include "wait.h"

TL_EXPORT int sem_wait(sem_t *sem)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(sem_wait)(sem);
    int waited = tl_wait_begin(self, TL_WAIT_SEM, sem, TL_CALLER_PC());
    int rc = TL_REAL(sem_wait)(sem);
    tl_wait_end(self, waited);
    return rc;
}

TL_EXPORT int sem_timedwait(sem_t *restrict sem, const struct timespec *restrict abstime)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(sem_timedwait)(sem, abstime);
    int waited = tl_wait_begin(self, TL_WAIT_SEM, sem, TL_CALLER_PC());
    int rc = TL_REAL(sem_timedwait)(sem, abstime);
    tl_wait_end(self, waited);
    return rc;
}

TL_EXPORT int sem_clockwait(sem_t *restrict sem, clockid_t clock,
                            const struct timespec *restrict abstime)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(sem_clockwait)(sem, clock, abstime);
    int waited = tl_wait_begin(self, TL_WAIT_SEM, sem, TL_CALLER_PC());
    int rc = TL_REAL(sem_clockwait)(sem, clock, abstime);
    tl_wait_end(self, waited);
    return rc;
}

TL_EXPORT int pthread_barrier_wait(pthread_barrier_t *barrier)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(barrier_wait)(barrier);
    int waited = tl_wait_begin(self, TL_WAIT_BARRIER, barrier, TL_CALLER_PC());
    int rc = TL_REAL(barrier_wait)(barrier);
    tl_wait_end(self, waited);
    return rc;
}
