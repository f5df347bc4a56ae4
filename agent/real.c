/* real.c - RTLD_NEXT lookups of every interposed function (see real.h). */
#include "real.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <stddef.h>

#include "errors.h"
#include "log.h"

struct tl_real tl_real;

/*
 * pthread_cond_* exist in two versions in glibc; the GLIBC_2.2.5 compat one
 * uses the old condvar layout and corrupts a new-layout condvar, so ask for
 * GLIBC_2.3.2 explicitly and fall back to the default only if it is absent.
 */
static void *lookup_versioned(const char *name, const char *version)
{
    void *p = dlvsym(RTLD_NEXT, name, version);
    return p ? p : dlsym(RTLD_NEXT, name);
}

#define LOOKUP(field, name) \
    do { \
        if (!tl_real.field) \
            *(void **)&tl_real.field = dlsym(RTLD_NEXT, name); \
    } while (0)

static atomic_int resolving; /* threads inside tl_real_init */

int tl_real_resolving(void)
{
    return atomic_load_explicit(&resolving, memory_order_relaxed) != 0;
}

static int lookup_all(void);

int tl_real_init(void)
{
    atomic_fetch_add(&resolving, 1);
    int rc = lookup_all();
    atomic_fetch_sub(&resolving, 1);
    return rc;
}

static int lookup_all(void)
{
    LOOKUP(malloc, "malloc");
    LOOKUP(calloc, "calloc");
    LOOKUP(realloc, "realloc");
    LOOKUP(reallocarray, "reallocarray");
    LOOKUP(free, "free");
    LOOKUP(posix_memalign, "posix_memalign");
    LOOKUP(aligned_alloc, "aligned_alloc");
    LOOKUP(memalign, "memalign");
    LOOKUP(valloc, "valloc");
    LOOKUP(pvalloc, "pvalloc");
    LOOKUP(malloc_usable_size, "malloc_usable_size");
    LOOKUP(pthread_create, "pthread_create");
    LOOKUP(pthread_join, "pthread_join");
    LOOKUP(pthread_tryjoin_np, "pthread_tryjoin_np");
    LOOKUP(pthread_timedjoin_np, "pthread_timedjoin_np");
    LOOKUP(pthread_detach, "pthread_detach");
    LOOKUP(pthread_exit, "pthread_exit");
    LOOKUP(pthread_setname_np, "pthread_setname_np");
    LOOKUP(mutex_init, "pthread_mutex_init");
    LOOKUP(mutex_destroy, "pthread_mutex_destroy");
    LOOKUP(mutex_lock, "pthread_mutex_lock");
    LOOKUP(mutex_trylock, "pthread_mutex_trylock");
    LOOKUP(mutex_timedlock, "pthread_mutex_timedlock");
    LOOKUP(mutex_clocklock, "pthread_mutex_clocklock");
    LOOKUP(mutex_unlock, "pthread_mutex_unlock");
    LOOKUP(rwlock_init, "pthread_rwlock_init");
    LOOKUP(rwlock_destroy, "pthread_rwlock_destroy");
    LOOKUP(rwlock_rdlock, "pthread_rwlock_rdlock");
    LOOKUP(rwlock_tryrdlock, "pthread_rwlock_tryrdlock");
    LOOKUP(rwlock_timedrdlock, "pthread_rwlock_timedrdlock");
    LOOKUP(rwlock_clockrdlock, "pthread_rwlock_clockrdlock");
    LOOKUP(rwlock_wrlock, "pthread_rwlock_wrlock");
    LOOKUP(rwlock_trywrlock, "pthread_rwlock_trywrlock");
    LOOKUP(rwlock_timedwrlock, "pthread_rwlock_timedwrlock");
    LOOKUP(rwlock_clockwrlock, "pthread_rwlock_clockwrlock");
    LOOKUP(rwlock_unlock, "pthread_rwlock_unlock");
    LOOKUP(spin_init, "pthread_spin_init");
    LOOKUP(spin_destroy, "pthread_spin_destroy");
    LOOKUP(spin_lock, "pthread_spin_lock");
    LOOKUP(spin_trylock, "pthread_spin_trylock");
    LOOKUP(spin_unlock, "pthread_spin_unlock");
    if (!tl_real.cond_wait)
        *(void **)&tl_real.cond_wait = lookup_versioned("pthread_cond_wait", "GLIBC_2.3.2");
    if (!tl_real.cond_timedwait)
        *(void **)&tl_real.cond_timedwait =
            lookup_versioned("pthread_cond_timedwait", "GLIBC_2.3.2");
    LOOKUP(cond_clockwait, "pthread_cond_clockwait");
    LOOKUP(sem_wait, "sem_wait");
    LOOKUP(sem_timedwait, "sem_timedwait");
    LOOKUP(sem_clockwait, "sem_clockwait");
    LOOKUP(barrier_wait, "pthread_barrier_wait");
    LOOKUP(thrd_create, "thrd_create");
    LOOKUP(thrd_join, "thrd_join");
    LOOKUP(thrd_detach, "thrd_detach");
    LOOKUP(thrd_exit, "thrd_exit");
    LOOKUP(mtx_init, "mtx_init");
    LOOKUP(mtx_destroy, "mtx_destroy");
    LOOKUP(mtx_lock, "mtx_lock");
    LOOKUP(mtx_trylock, "mtx_trylock");
    LOOKUP(mtx_timedlock, "mtx_timedlock");
    LOOKUP(mtx_unlock, "mtx_unlock");
    LOOKUP(cnd_wait, "cnd_wait");
    LOOKUP(cnd_timedwait, "cnd_timedwait");
    LOOKUP(fork, "fork");
    LOOKUP(execve, "execve");
    LOOKUP(execv, "execv");
    LOOKUP(execvp, "execvp");
    LOOKUP(execvpe, "execvpe");
    LOOKUP(fexecve, "fexecve");
    LOOKUP(exit, "exit");
    LOOKUP(_exit, "_exit");
    LOOKUP(libc_start_main, "__libc_start_main");

    if (!tl_real.pthread_create || !tl_real.mutex_lock || !tl_real.mutex_unlock ||
        !tl_real.cond_wait || !tl_real.exit || !tl_real.malloc || !tl_real.free) {
        tl_log(TL_LOG_ERROR, "cannot resolve the real pthread functions; agent disabled");
        return TL_EINVAL;
    }
    return 0;
}
