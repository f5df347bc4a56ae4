/*
 * real.h - the real libc/libpthread functions behind every interposer,
 * looked up once with dlsym(RTLD_NEXT) (dlvsym where the default version is
 * wrong). Wrappers call them through TL_REAL(), which resolves lazily:
 * another library's constructor may call a wrapped function before ours has
 * run. Filled by whichever thread gets there first; every lookup yields the
 * same pointer, so racing fillers are harmless. Tests may replace entries to
 * inject failures (SQLite's aSyscall[] idea).
 */
#ifndef TL_REAL_H
#define TL_REAL_H

#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <threads.h>
#include <unistd.h>

typedef int (*tl_main_fn)(int, char **, char **);

struct tl_real {
    __typeof__(pthread_create) *pthread_create;
    __typeof__(pthread_join) *pthread_join;
    __typeof__(pthread_tryjoin_np) *pthread_tryjoin_np;
    __typeof__(pthread_timedjoin_np) *pthread_timedjoin_np;
    __typeof__(pthread_detach) *pthread_detach;
    __typeof__(pthread_exit) *pthread_exit;
    __typeof__(pthread_setname_np) *pthread_setname_np;

    __typeof__(pthread_mutex_init) *mutex_init;
    __typeof__(pthread_mutex_destroy) *mutex_destroy;
    __typeof__(pthread_mutex_lock) *mutex_lock;
    __typeof__(pthread_mutex_trylock) *mutex_trylock;
    __typeof__(pthread_mutex_timedlock) *mutex_timedlock;
    __typeof__(pthread_mutex_clocklock) *mutex_clocklock;
    __typeof__(pthread_mutex_unlock) *mutex_unlock;

    __typeof__(pthread_rwlock_init) *rwlock_init;
    __typeof__(pthread_rwlock_destroy) *rwlock_destroy;
    __typeof__(pthread_rwlock_rdlock) *rwlock_rdlock;
    __typeof__(pthread_rwlock_tryrdlock) *rwlock_tryrdlock;
    __typeof__(pthread_rwlock_timedrdlock) *rwlock_timedrdlock;
    __typeof__(pthread_rwlock_clockrdlock) *rwlock_clockrdlock;
    __typeof__(pthread_rwlock_wrlock) *rwlock_wrlock;
    __typeof__(pthread_rwlock_trywrlock) *rwlock_trywrlock;
    __typeof__(pthread_rwlock_timedwrlock) *rwlock_timedwrlock;
    __typeof__(pthread_rwlock_clockwrlock) *rwlock_clockwrlock;
    __typeof__(pthread_rwlock_unlock) *rwlock_unlock;

    __typeof__(pthread_spin_init) *spin_init;
    __typeof__(pthread_spin_destroy) *spin_destroy;
    __typeof__(pthread_spin_lock) *spin_lock;
    __typeof__(pthread_spin_trylock) *spin_trylock;
    __typeof__(pthread_spin_unlock) *spin_unlock;

    __typeof__(pthread_cond_wait) *cond_wait;
    __typeof__(pthread_cond_timedwait) *cond_timedwait;
    __typeof__(pthread_cond_clockwait) *cond_clockwait;

    __typeof__(sem_wait) *sem_wait;
    __typeof__(sem_timedwait) *sem_timedwait;
    __typeof__(sem_clockwait) *sem_clockwait;
    __typeof__(pthread_barrier_wait) *barrier_wait;

    __typeof__(thrd_create) *thrd_create;
    __typeof__(thrd_join) *thrd_join;
    __typeof__(thrd_detach) *thrd_detach;
    __typeof__(thrd_exit) *thrd_exit;
    __typeof__(mtx_init) *mtx_init;
    __typeof__(mtx_destroy) *mtx_destroy;
    __typeof__(mtx_lock) *mtx_lock;
    __typeof__(mtx_trylock) *mtx_trylock;
    __typeof__(mtx_timedlock) *mtx_timedlock;
    __typeof__(mtx_unlock) *mtx_unlock;
    __typeof__(cnd_wait) *cnd_wait;
    __typeof__(cnd_timedwait) *cnd_timedwait;

    __typeof__(malloc) *malloc;
    __typeof__(calloc) *calloc;
    __typeof__(realloc) *realloc;
    __typeof__(reallocarray) *reallocarray;
    __typeof__(free) *free;
    __typeof__(posix_memalign) *posix_memalign;
    __typeof__(aligned_alloc) *aligned_alloc;
    void *(*memalign)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
    size_t (*malloc_usable_size)(void *);

    __typeof__(fork) *fork;
    __typeof__(execve) *execve;
    __typeof__(execv) *execv;
    __typeof__(execvp) *execvp;
    __typeof__(execvpe) *execvpe;
    __typeof__(fexecve) *fexecve;
    __typeof__(exit) *exit;
    __typeof__(_exit) *_exit;
    int (*libc_start_main)(tl_main_fn, int, char **, void (*)(void), void (*)(void),
                           void (*)(void), void *);
};

extern struct tl_real tl_real;

/* Looks every symbol up. Idempotent. Returns 0, or TL_EINVAL when a required one is missing. */
int tl_real_init(void);
/* Whether some thread is inside tl_real_init (dlsym may allocate: serve it elsewhere). */
int tl_real_resolving(void);

#define TL_REAL(fn) \
    (__builtin_expect(tl_real.fn != NULL, 1) ? tl_real.fn : (tl_real_init(), tl_real.fn))

/*
 * For the hottest interposers, once tl_enter() returned a record: the agent
 * is active, so tl_real_init() succeeded, and it fails unless the functions
 * it requires (pthread_create, mutex_lock, mutex_unlock, cond_wait, exit,
 * malloc, free) resolved. Only those may be called this way.
 */
#define TL_REAL_RESOLVED(fn) (tl_real.fn)

#endif
