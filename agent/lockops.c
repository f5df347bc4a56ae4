/*
 * lockops.c - acquisition and release bookkeeping shared by all lock
 * interposers (see lockops.h).
 *
 * Whether a lock is held, and by whom, is read from glibc's own lock words
 * where it keeps them (a mutex's __owner and __lock, an rwlock's __cur_writer
 * and __readers, a spinlock's word), so the fast path stores nothing shared.
 * C11 mtx_t is a pthread mutex inside glibc.
 */
#include "lockops.h"

#include <errno.h>
#include <pthread.h>

#include "detect_lock_order.h"
#include "clock.h"
#include "detect_misuse.h"
#include "real.h"
#include "thread.h"

#define MUTEX_KIND_MASK 3  /* PTHREAD_MUTEX_KIND_MASK_NP in glibc */
#define RWLOCK_READER_SHIFT 3 /* PTHREAD_RWLOCK_READER_SHIFT in glibc */

#define find_held(self, addr) tl_lockops_find_held((self), (const void *)(addr))

/*
 * The edge cache's answer, else the held lock's steady successors': the
 * second look is out of line only, its loop costs the inline path registers.
 */
static int fresh_and_steady_after(struct tl_thread *self, const struct tl_held *h,
                                  const struct tl_lock *lock, const void *addr)
{
    if (h->addr == (uintptr_t)addr)
        return 0;
    return tl_lockops_edge_known(self, h, lock, TL_MODE_WRITE) ||
           tl_lock_order_steady_out(h->lock, lock->id, self->id,
                                    TL_MODE_BIT(h->mode, TL_MODE_WRITE));
}

int tl_lockops_fresh_and_ordered_deep(struct tl_thread *self, const struct tl_lock *lock,
                                      const void *addr)
{
    for (int i = 0; i < self->nheld; i++)
        if (!fresh_and_steady_after(self, &self->held[i], lock, addr))
            return 0;
    return 1;
}

/* A miss in the thread's lock cache (lockops.h): the shared map, then the cache. */
__attribute__((noinline, cold))
struct tl_lock *tl_lockops_lock_slow(struct tl_thread *self, const void *addr,
                                     enum tl_lock_kind kind, struct tl_lcache_entry *c)
{
    uintptr_t a = (uintptr_t)addr;
    struct tl_lock *l = tl_lockmap_find(a);
    if (!l) {
        int saved_errno = errno;
        self->in_agent++;
        l = tl_lockmap_get(a, kind, self->id, 1);
        self->in_agent--;
        errno = saved_errno;
    }
    if (l) {
        c->addr = a;
        c->lock = l;
    }
    return l;
}

/*
 * A misuse finding points at the lock's record (the same one
 * tl_misuse_report() picks): pin it, so it is never recycled (lockmap.h).
 */
static void report(struct tl_thread *self, enum tl_misuse what, uintptr_t addr, int kind,
                   struct tl_caller caller, struct tl_held *h)
{
    self->in_agent++;
    tl_lockmap_pin(h ? h->lock : tl_lockmap_get(addr, (enum tl_lock_kind)kind, self->id, 0));
    self->in_agent--;
    tl_misuse_report(self, what, addr, kind, caller, h);
}

static int is_recursive(const void *addr, enum tl_lock_kind kind)
{
    if (kind != TL_LOCK_MUTEX && kind != TL_LOCK_C11)
        return 0;
    const pthread_mutex_t *m = addr;
    return (m->__data.__kind & MUTEX_KIND_MASK) == PTHREAD_MUTEX_RECURSIVE;
}

__attribute__((noinline, cold))
struct tl_held *tl_lockops_relock(struct tl_thread *self, const void *addr,
                                  enum tl_lock_kind kind, int mode,
                                  const struct tl_caller *caller, struct tl_held *h)
{
    if (is_recursive(addr, kind))
        return h;
    if (kind == TL_LOCK_RWLOCK && mode == TL_MODE_READ && h->mode == TL_MODE_READ)
        return h; /* recursive read locking is allowed */
    report(self, TL_MISUSE_RELOCK, (uintptr_t)addr, kind, *caller, h);
    return h;
}

/* Contended path only: it is about to sleep in the kernel, a clock read is noise next to it. */
int64_t tl_lockops_contended(struct tl_thread *self, struct tl_lock *lock)
{
    uint64_t n = atomic_load_explicit(&self->contentions, memory_order_relaxed);
    atomic_store_explicit(&self->contentions, n + 1, memory_order_relaxed);
    if (lock)
        atomic_fetch_add_explicit(&lock->contentions, 1, memory_order_relaxed);
    int64_t now = tl_mono_ns();
    return now ? now : 1;
}

void tl_lockops_waited(struct tl_lock *lock, int64_t since)
{
    if (!lock || !since)
        return;
    uint64_t waited = (uint64_t)(tl_mono_ns() - since);
    atomic_fetch_add_explicit(&lock->wait_ns, waited, memory_order_relaxed);
    uint64_t max = atomic_load_explicit(&lock->wait_max_ns, memory_order_relaxed);
    while (waited > max && !atomic_compare_exchange_weak_explicit(
                               &lock->wait_max_ns, &max, waited, memory_order_relaxed,
                               memory_order_relaxed)) {
    }
}

/* Whether glibc says the calling thread holds the lock (taken before we saw it). */
static int held_per_libc(struct tl_thread *self, const void *addr, enum tl_lock_kind kind)
{
    switch (kind) {
    case TL_LOCK_MUTEX:
    case TL_LOCK_C11:
        return ((const pthread_mutex_t *)addr)->__data.__owner == self->tid;
    case TL_LOCK_RWLOCK: {
        const pthread_rwlock_t *rw = addr;
        return rw->__data.__cur_writer == self->tid ||
               (rw->__data.__readers >> RWLOCK_READER_SHIFT) != 0;
    }
    default:
        return 0;
    }
}

__attribute__((noinline, cold))
void tl_lockops_release_slow(struct tl_thread *self, const void *addr, enum tl_lock_kind kind,
                             const struct tl_caller *caller)
{
    struct tl_held *h = find_held(self, addr);
    if (__builtin_expect(h != NULL, 1)) {
        if (h->recursion) {
            h->recursion--;
            return;
        }
        struct tl_held *end = &self->held[--self->nheld];
        for (; h < end; h++)
            h[0] = h[1];
        return;
    }
    if (self->untracked) {
        self->untracked--; /* deeper than held[] can follow: assume it was one of those */
        return;
    }
    if (!held_per_libc(self, addr, kind))
        report(self, TL_MISUSE_UNLOCK_NOT_HELD, (uintptr_t)addr, kind, *caller, NULL);
}

static int locked_per_libc(const void *addr, enum tl_lock_kind kind)
{
    switch (kind) {
    case TL_LOCK_MUTEX:
    case TL_LOCK_C11:
        return ((const pthread_mutex_t *)addr)->__data.__lock != 0;
    case TL_LOCK_RWLOCK: {
        const pthread_rwlock_t *rw = addr;
        return rw->__data.__cur_writer != 0 ||
               (rw->__data.__readers >> RWLOCK_READER_SHIFT) != 0;
    }
    case TL_LOCK_SPIN: {
        /* The spinlock word's "free" value differs between architectures: ask by trying. */
        pthread_spinlock_t *s = (pthread_spinlock_t *)addr;
        if (TL_REAL(spin_trylock)(s) != 0)
            return 1;
        TL_REAL(spin_unlock)(s);
        return 0;
    }
    }
    return 0;
}

void tl_lockops_before_destroy(struct tl_thread *self, const void *addr, enum tl_lock_kind kind,
                               const struct tl_caller *caller)
{
    if (locked_per_libc(addr, kind))
        report(self, TL_MISUSE_DESTROY_HELD, (uintptr_t)addr, kind, *caller,
               find_held(self, addr));
}

void tl_lockops_retire(struct tl_thread *self, const void *addr)
{
    self->in_agent++;
    tl_lockmap_retire((uintptr_t)addr);
    self->in_agent--;
}

void tl_lockops_thread_exit(struct tl_thread *t)
{
    for (int i = 0; i < t->nheld; i++) {
        struct tl_held *h = &t->held[i];
        int kind = h->lock ? h->lock->kind : TL_LOCK_MUTEX;
        report(t, TL_MISUSE_EXIT_HOLDING, h->addr, kind, h->caller, h);
    }
}

void tl_lockops_after_fork_child(struct tl_thread *t)
{
    for (int i = 0; i < t->nheld; i++) {
        struct tl_held *h = &t->held[i];
        int kind = h->lock ? h->lock->kind : TL_LOCK_MUTEX;
        h->lock = tl_lockmap_get(h->addr, kind, t->id, 0);
    }
}
