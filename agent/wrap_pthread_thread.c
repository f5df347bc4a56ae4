/*
 * wrap_pthread_thread.c - interposers for thread lifecycles: pthread_create,
 * pthread_join, pthread_tryjoin_np, pthread_timedjoin_np, pthread_detach,
 * pthread_exit, pthread_setname_np, and the C11 thrd_create, thrd_join,
 * thrd_detach, thrd_exit (glibc implements those without the pthread
 * symbols).
 *
 * Creation captures the creator's stack and starts the new thread in a
 * trampoline that registers its record before the user's function runs.
 * The thread's end is seen by its TSD destructor (thread.c); the trampoline
 * and the exit interposers only say how it ended.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <threads.h>
#include <time.h>

#include "arena.h"
#include "collector.h"
#include "export.h"
#include "real.h"
#include "spin.h"
#include "stack.h"
#include "thread.h"
#include "wait.h"

struct start_info {
    struct start_info *next_free;  /* free list link, under info_lock */
    void *(*fn)(void *);           /* pthread start routine */
    int (*c11_fn)(void *);         /* or C11 start routine */
    void *arg;
    uint32_t creator;
    struct tl_stack *create_stack;
    int detached;                  /* created detached (pthread attribute) */
};

static struct tl_spin info_lock = TL_SPIN_INIT;
static struct start_info *free_infos; /* under info_lock */

static struct start_info *info_get(void)
{
    tl_spin_lock(&info_lock);
    struct start_info *si = free_infos;
    if (si)
        free_infos = si->next_free;
    tl_spin_unlock(&info_lock);
    return si ? si : tl_arena_alloc(sizeof *si);
}

static void info_put(struct start_info *si)
{
    tl_spin_lock(&info_lock);
    si->next_free = free_infos;
    free_infos = si;
    tl_spin_unlock(&info_lock);
}

/* Copies the start info and recycles it. Returns the new thread's record (NULL if none). */
static struct tl_thread *start(struct start_info *si, struct start_info *copy)
{
    *copy = *si;
    info_put(si);
    struct tl_thread *t = tl_thread_register(copy->creator, copy->create_stack, 1);
    if (t && copy->detached)
        atomic_store(&t->detached_by, copy->creator);
    return t;
}

static void *trampoline(void *p)
{
    struct start_info si;
    struct tl_thread *t = start(p, &si);
    void *ret = si.fn(si.arg);
    if (t) {
        int none = TL_END_NONE;
        atomic_compare_exchange_strong(&t->end_how, &none, TL_END_RETURN);
    }
    return ret;
}

static int trampoline_c11(void *p)
{
    struct start_info si;
    struct tl_thread *t = start(p, &si);
    int ret = si.c11_fn(si.arg);
    if (t) {
        int none = TL_END_NONE;
        atomic_compare_exchange_strong(&t->end_how, &none, TL_END_RETURN);
    }
    return ret;
}

/* NULL when the agent cannot follow the new thread: it then starts untracked-by-trampoline. */
static struct start_info *prepare(struct tl_thread *self)
{
    int saved_errno = errno;
    self->in_agent++;
    tl_collector_ensure_started(); /* a fork child records from its first new thread on */
    struct start_info *si = info_get();
    if (si) {
        si->creator = self->id;
        si->create_stack = tl_stack_capture();
        tl_thread_expect();
    }
    self->in_agent--;
    errno = saved_errno;
    return si;
}

/* Creation failed: the thread will never register. */
static void abandon(struct start_info *si)
{
    info_put(si);
    tl_thread_unexpect();
}

TL_EXPORT int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                             void *(*fn)(void *), void *arg)
{
    struct tl_thread *self = tl_enter();
    struct start_info *si = self ? prepare(self) : NULL;
    if (!si)
        return TL_REAL(pthread_create)(thread, attr, fn, arg);
    si->fn = fn;
    si->c11_fn = NULL;
    si->arg = arg;
    int state = PTHREAD_CREATE_JOINABLE;
    si->detached = attr && pthread_attr_getdetachstate(attr, &state) == 0 &&
                   state == PTHREAD_CREATE_DETACHED;
    int rc = TL_REAL(pthread_create)(thread, attr, trampoline, si);
    if (rc != 0)
        abandon(si);
    return rc;
}

TL_EXPORT int thrd_create(thrd_t *thr, thrd_start_t fn, void *arg)
{
    struct tl_thread *self = tl_enter();
    struct start_info *si = self ? prepare(self) : NULL;
    if (!si)
        return TL_REAL(thrd_create)(thr, fn, arg);
    si->fn = NULL;
    si->c11_fn = fn;
    si->arg = arg;
    si->detached = 0;
    int rc = TL_REAL(thrd_create)(thr, trampoline_c11, si);
    if (rc != thrd_success)
        abandon(si);
    return rc;
}

static void note_joined(struct tl_thread *self, pthread_t thread)
{
    struct tl_thread *t = tl_thread_by_handle(thread);
    if (t)
        tl_thread_note_joined(t, self->id);
}

TL_EXPORT int pthread_join(pthread_t thread, void **ret)
{
    struct tl_thread *self = tl_enter();
    int waited = self ? tl_wait_begin(self, TL_WAIT_JOIN, (const void *)thread, TL_CALLER_PC()) : 0;
    int rc = TL_REAL(pthread_join)(thread, ret);
    if (waited)
        tl_wait_end(self, waited);
    if (self && rc == 0)
        note_joined(self, thread);
    return rc;
}

TL_EXPORT int pthread_tryjoin_np(pthread_t thread, void **ret)
{
    struct tl_thread *self = tl_enter();
    int rc = TL_REAL(pthread_tryjoin_np)(thread, ret);
    if (self && rc == 0)
        note_joined(self, thread);
    return rc;
}

TL_EXPORT int pthread_timedjoin_np(pthread_t thread, void **ret, const struct timespec *abstime)
{
    struct tl_thread *self = tl_enter();
    int waited = self ? tl_wait_begin(self, TL_WAIT_JOIN, (const void *)thread, TL_CALLER_PC()) : 0;
    int rc = TL_REAL(pthread_timedjoin_np)(thread, ret, abstime);
    if (waited)
        tl_wait_end(self, waited);
    if (self && rc == 0)
        note_joined(self, thread);
    return rc;
}

TL_EXPORT int thrd_join(thrd_t thr, int *res)
{
    struct tl_thread *self = tl_enter();
    int waited = self ? tl_wait_begin(self, TL_WAIT_JOIN, (const void *)thr, TL_CALLER_PC()) : 0;
    int rc = TL_REAL(thrd_join)(thr, res);
    if (waited)
        tl_wait_end(self, waited);
    if (self && rc == thrd_success)
        note_joined(self, (pthread_t)thr);
    return rc;
}

TL_EXPORT int pthread_detach(pthread_t thread)
{
    struct tl_thread *self = tl_enter();
    if (self)
        tl_thread_note_detached(thread, self->id);
    return TL_REAL(pthread_detach)(thread);
}

TL_EXPORT int thrd_detach(thrd_t thr)
{
    struct tl_thread *self = tl_enter();
    if (self)
        tl_thread_note_detached((pthread_t)thr, self->id);
    return TL_REAL(thrd_detach)(thr);
}

static void note_exit(void)
{
    struct tl_thread *self = tl_enter();
    if (self) {
        int none = TL_END_NONE;
        atomic_compare_exchange_strong(&self->end_how, &none, TL_END_EXIT);
    }
}

TL_EXPORT void pthread_exit(void *ret)
{
    note_exit();
    TL_REAL(pthread_exit)(ret);
    __builtin_unreachable();
}

TL_EXPORT void thrd_exit(int res)
{
    note_exit();
    TL_REAL(thrd_exit)(res);
    __builtin_unreachable();
}

TL_EXPORT int pthread_setname_np(pthread_t thread, const char *name)
{
    int rc = TL_REAL(pthread_setname_np)(thread, name);
    struct tl_thread *self = tl_enter();
    if (self && rc == 0) {
        struct tl_thread *t = pthread_equal(thread, pthread_self()) ? self
                                                                     : tl_thread_by_handle(thread);
        if (t)
            tl_thread_set_name(t, name);
    }
    return rc;
}

void tl_wrap_thread_after_fork_child(void)
{
    tl_spin_reset(&info_lock);
}
