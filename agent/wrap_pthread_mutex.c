/*
 * wrap_pthread_mutex.c - interposers for pthread mutexes: init, destroy, lock,
 * trylock, timedlock, clocklock, unlock. Normal, recursive, errorcheck and
 * robust mutexes, and static initialisers never passed to init.
 *
 * Contention is read off the mutex word before the real call (a plain load
 * of a line the lock is about to take anyway): glibc's trylock costs twice a
 * lock, so trying first would double the price of every uncontended lock.
 * Only a contended call records a wait (wait.h).
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "export.h"
#include "lockops.h"
#include "real.h"
#include "thread.h"
#include "wait.h"

static int acquired(int rc)
{
    return rc == 0 || rc == EOWNERDEAD;
}

static inline int after(struct tl_thread *self, struct tl_lock *l, pthread_mutex_t *m, int rc,
                 int flags, const struct tl_caller *caller, struct tl_held *held)
{
    if (acquired(rc))
        tl_lockops_acquired(self, l, m, TL_MODE_WRITE, flags, caller, held);
    return rc;
}

/*
 * Whether the call is about to wait: counted as contended and put on the
 * wait record. An uncontended lock skips the record (four stores on every
 * lock); the rare lock taken by another thread between this look and the
 * real call is still seen blocking by the wait-for graph, which asks the
 * kernel what a lock's owner waits on (waitgraph.c).
 */
static inline int mutex_free(const pthread_mutex_t *m)
{
    return *(const volatile int *)&m->__data.__lock == 0;
}

static int64_t about_to_wait(struct tl_thread *self, struct tl_lock *l, const pthread_mutex_t *m)
{
    if (__builtin_expect(mutex_free(m), 1))
        return 0;
    return tl_lockops_contended(self, l);
}

enum block_how { BLOCK_PLAIN, BLOCK_TIMED, BLOCK_CLOCK };

/*
 * glibc's mutex kinds whose lock cannot fail when the caller does not hold
 * it already: normal, recursive, errorcheck and adaptive, with or without
 * the elision flags. Robust, priority-inheritance and priority-protect
 * mutexes (and garbage) can, so they take the path that looks at the result.
 */
#define KIND_TYPE_MASK 3
#define KIND_ELISION_FLAGS (256 | 512)

static inline int cannot_fail(const pthread_mutex_t *m)
{
    return (m->__data.__kind & ~(KIND_TYPE_MASK | KIND_ELISION_FLAGS)) == 0;
}

/* Inlined in each interposer: the fast path stays one function with `how` folded away. */
static inline __attribute__((always_inline)) int
lock_blocking(struct tl_thread *self, pthread_mutex_t *m, enum block_how how,
                         clockid_t clock, const struct timespec *abstime,
                         const struct tl_caller *caller)
{
    struct tl_lock *l = tl_lockops_lock(self, m, TL_LOCK_MUTEX);
    struct tl_held *held =
        tl_lockops_before_block(self, l, m, TL_LOCK_MUTEX, TL_MODE_WRITE, caller);
    int rc;
    int64_t since = about_to_wait(self, l, m);
    int waited = since && tl_wait_begin(self, TL_WAIT_MUTEX, m, caller->pc);
    switch (how) {
    case BLOCK_TIMED: rc = TL_REAL(mutex_timedlock)(m, abstime); break;
    case BLOCK_CLOCK: rc = TL_REAL(mutex_clocklock)(m, clock, abstime); break;
    default: rc = TL_REAL(mutex_lock)(m); break;
    }
    tl_wait_end(self, waited);
    if (since)
        tl_lockops_waited(l, since);
    return after(self, l, m, rc, TL_ACQ_ORDERED, caller, held);
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
        tl_lockops_before_destroy(self, m, TL_LOCK_MUTEX, &TL_CALLER());
    int rc = TL_REAL(mutex_destroy)(m);
    if (self && rc == 0)
        tl_lockops_retire(self, m);
    return rc;
}

/* Everything pthread_mutex_lock() does not do on its fast path. */
static __attribute__((noinline)) int lock_slow(struct tl_thread *self, pthread_mutex_t *m,
                                               uintptr_t pc, uintptr_t cfa)
{
    return lock_blocking(self, m, BLOCK_PLAIN, 0, NULL, &(struct tl_caller){pc, cfa});
}

/* The fast paths' end: the hold is recorded first, then the real lock is a tail call. */
static inline __attribute__((always_inline)) int record_then_lock(struct tl_thread *self,
                                                                  struct tl_lock *l,
                                                                  pthread_mutex_t *m,
                                                                  uintptr_t pc, uintptr_t cfa)
{
    tl_lockops_acquired(self, l, m, TL_MODE_WRITE, TL_ACQ_ORDERED, &(struct tl_caller){pc, cfa},
                        NULL);
    return TL_REAL_RESOLVED(mutex_lock)(m);
}

/*
 * pthread_mutex_lock()'s fast path, out of line: two locks or more held, or
 * one whose edge the thread's edge cache does not know (the held locks'
 * steady successors may).
 */
static __attribute__((noinline)) int lock_nested(struct tl_thread *self, struct tl_lock *l,
                                                 pthread_mutex_t *m, uintptr_t pc, uintptr_t cfa)
{
    if (!tl_lockops_fresh_and_ordered_deep(self, l, m))
        return lock_slow(self, m, pc, cfa);
    return record_then_lock(self, l, m, pc, cfa);
}

/* pthread_mutex_lock() on a thread with no record yet, or while the agent is off or busy. */
static __attribute__((noinline, cold)) int lock_entry_slow(pthread_mutex_t *m, uintptr_t pc,
                                                           uintptr_t cfa)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(mutex_lock)(m);
    return lock_slow(self, m, pc, cfa);
}

/* pthread_mutex_lock() with the lock's record at hand: the rest of its fast path. */
static inline __attribute__((always_inline)) int lock_fast(struct tl_thread *self,
                                                           struct tl_lock *l, pthread_mutex_t *m,
                                                           uintptr_t pc, uintptr_t cfa)
{
    if (__builtin_expect(!mutex_free(m) || !cannot_fail(m), 0))
        return lock_slow(self, m, pc, cfa);
    if (__builtin_expect(self->nheld > 1, 0) ||
        (self->nheld == 1 && !tl_lockops_fresh_and_ordered_after(self, &self->held[0], l, m)))
        return lock_nested(self, l, m, pc, cfa);
    return record_then_lock(self, l, m, pc, cfa);
}

/*
 * A lock the thread's lock cache misses (one of thousands of hashed locks, or
 * a new one): the record from the shared map, then the fast path after all.
 */
static __attribute__((noinline)) int lock_uncached(struct tl_thread *self, pthread_mutex_t *m,
                                                   uintptr_t pc, uintptr_t cfa)
{
    struct tl_lock *l =
        tl_lockops_lock_slow(self, m, TL_LOCK_MUTEX, tl_lockops_lcache(self, (uintptr_t)m));
    if (__builtin_expect(!l, 0))
        return lock_slow(self, m, pc, cfa);
    return lock_fast(self, l, m, pc, cfa);
}

/*
 * The hottest call of all. When the lock's record is cached, the mutex is
 * free, not ours already, of a kind that cannot fail and every lock-order
 * edge is known, the hold is recorded first and the real lock is a tail
 * call: no frame of ours stays on the stack, nothing runs after it, and the
 * function needs no callee-saved registers, because every call it makes is a
 * tail call: for a thread not yet registered (lock_entry_slow), a lock the
 * lock cache misses (lock_uncached), and under two held locks or more or an
 * edge the edge cache misses (lock_nested) too. No
 * lock or one held (the common cases) are checked without a loop: its setup
 * cost more than the one probe. The cost of recording first:
 * in the instant between the look at the word and the real call, another
 * thread may take the mutex; this thread then blocks listed as holding it,
 * without a wait record (the wait-for graph takes owners from the mutex word,
 * so it still sees the real owner), and two threads racing for a free mutex
 * may lose one count of its acquisitions.
 */
TL_EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
    struct tl_caller caller = TL_CALLER();
    struct tl_thread *self = tl_enter_registered();
    if (__builtin_expect(!self, 0))
        return lock_entry_slow(m, caller.pc, caller.cfa);
    struct tl_lock *l = tl_lockops_cached(self, m);
    if (__builtin_expect(!l, 0))
        return lock_uncached(self, m, caller.pc, caller.cfa);
    return lock_fast(self, l, m, caller.pc, caller.cfa);
}

TL_EXPORT int pthread_mutex_trylock(pthread_mutex_t *m)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(mutex_trylock)(m);
    struct tl_caller caller = TL_CALLER();
    struct tl_lock *l = tl_lockops_lock(self, m, TL_LOCK_MUTEX);
    return after(self, l, m, TL_REAL(mutex_trylock)(m), TL_ACQ_TRYLOCK, &caller,
                 tl_lockops_find_held(self, m));
}

TL_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *abstime)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(mutex_timedlock)(m, abstime);
    return lock_blocking(self, m, BLOCK_TIMED, 0, abstime, &TL_CALLER());
}

TL_EXPORT int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clock,
                                      const struct timespec *abstime)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(mutex_clocklock)(m, clock, abstime);
    return lock_blocking(self, m, BLOCK_CLOCK, clock, abstime, &TL_CALLER());
}

/* Everything pthread_mutex_unlock() does not do on its fast path: misuse, out-of-order release. */
static __attribute__((noinline)) int unlock_slow(struct tl_thread *self, pthread_mutex_t *m,
                                                 uintptr_t pc, uintptr_t cfa)
{
    tl_lockops_release_slow(self, m, TL_LOCK_MUTEX, &(struct tl_caller){pc, cfa});
    return TL_REAL_RESOLVED(mutex_unlock)(m);
}

/* pthread_mutex_unlock() on a thread with no record yet, or while the agent is off or busy. */
static __attribute__((noinline, cold)) int unlock_entry_slow(pthread_mutex_t *m, uintptr_t pc,
                                                             uintptr_t cfa)
{
    struct tl_thread *self = tl_enter();
    if (!self)
        return TL_REAL(mutex_unlock)(m);
    if (!tl_lockops_release_innermost(self, m))
        return unlock_slow(self, m, pc, cfa);
    return TL_REAL_RESOLVED(mutex_unlock)(m);
}

/*
 * As the lock: tail calls only, so no frame and no callee-saved register;
 * the caller's frame is read only on the slow paths.
 */
TL_EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
    struct tl_thread *self = tl_enter_registered();
    if (__builtin_expect(!self, 0))
        return unlock_entry_slow(m, TL_CALLER_PC(), (uintptr_t)__builtin_dwarf_cfa());
    if (__builtin_expect(!tl_lockops_release_innermost(self, m), 0))
        return unlock_slow(self, m, TL_CALLER_PC(), (uintptr_t)__builtin_dwarf_cfa());
    return TL_REAL_RESOLVED(mutex_unlock)(m);
}
