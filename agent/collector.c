/* collector.c - the agent's writer thread (see collector.h). */
#include "collector.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "detect_lock_order.h"
#include "finding.h"
#include "lockgraph.h"
#include "lockmap.h"
#include "log.h"
#include "options.h"
#include "publish.h"
#include "real.h"
#include "symbols.h"

static pthread_mutex_t collector_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER; /* uses CLOCK_MONOTONIC once started */
static int stopping;            /* under collector_lock: no more ticks */
static int finished;            /* under collector_lock: the process end was written */
static int all_exited;          /* under collector_lock */
static int started;             /* under collector_lock: store open in this process */
static int pending_child;       /* fork child that has not started yet */
static struct tl_finding *findings; /* every finding written, newest first; collector_lock */
static int64_t last_tick_ns;
static char db_file[PATH_MAX];
static struct tl_process_info proc_info;
static char exe_buf[PATH_MAX];
static char cmdline_buf[1024];

static void write_record(struct tl_pub *p)
{
    switch (p->type) {
    case TL_PUB_THREAD:
        tl_store_thread(tl_container_of(p, struct tl_thread, pub));
        break;
    case TL_PUB_LOCK:
        tl_store_lock(tl_container_of(p, struct tl_lock, pub));
        break;
    case TL_PUB_EDGE:
        tl_store_edge(tl_container_of(p, struct tl_edge, pub));
        break;
    case TL_PUB_FINDING: {
        struct tl_finding *f = tl_container_of(p, struct tl_finding, pub);
        if (f->db_id == 0) {
            f->next_open = findings;
            findings = f;
        }
        tl_store_finding(f);
        break;
    }
    }
}

static void take_sample(int64_t now)
{
    struct tl_sample s = {.t_ns = now, .threads_live = tl_thread_live_count(),
                          .threads_total = tl_thread_total_count(),
                          .locks = tl_lockmap_count(), .edges = tl_graph_edge_count(),
                          .tick_ns = last_tick_ns};
    for (struct tl_thread *t = tl_thread_first(); t; t = t->next) {
        s.acquisitions += atomic_load_explicit(&t->acquisitions, memory_order_relaxed);
        s.contentions += atomic_load_explicit(&t->contentions, memory_order_relaxed);
    }
    tl_store_sample(&s);
}

static void stop_recording(void)
{
    tl_log(TL_LOG_ERROR, "stopped recording: database %s failed (%s)", db_file,
           tl_store_error());
    atomic_store(&tl_active, 0);
    stopping = 1;
    tl_store_close();
}

/* One transaction: the queue, severity changes, a sample. collector_lock held. */
static void tick_locked(void)
{
    if (stopping || !tl_store_is_open())
        return;
    int64_t start = tl_mono_ns();
    tl_symbols_tick();
    if (tl_store_begin() < 0) {
        stop_recording();
        return;
    }
    for (struct tl_pub *p = tl_publish_take_all(), *next; p; p = next) {
        next = p->next; /* read before done(): the record may be queued again at once */
        tl_publish_done(p);
        write_record(p);
    }
    for (struct tl_finding *f = findings; f; f = f->next_open) {
        if (f->kind == TL_FINDING_LOCK_ORDER)
            atomic_store(&f->severity, tl_lock_order_severity(f));
        tl_store_finding(f);
    }
    for (struct tl_lock *l = tl_lockmap_all(); l; l = l->next_all)
        tl_store_lock_counts(l);
    take_sample(tl_now_ns());
    if (tl_store_commit() < 0)
        stop_recording();
    last_tick_ns = tl_mono_ns() - start;
}

static void *collector_main(void *arg)
{
    (void)arg;
    tl_thread_enter_agent_for_life();
    TL_REAL(mutex_lock)(&collector_lock);
    while (!stopping) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        int64_t ns = until.tv_nsec + (int64_t)(tl_options.interval * 1e9);
        until.tv_sec += ns / 1000000000;
        until.tv_nsec = ns % 1000000000;
        while (!stopping && !all_exited &&
               TL_REAL(cond_timedwait)(&wake, &collector_lock, &until) != ETIMEDOUT) {
        }
        if (stopping)
            break;
        tick_locked();
        if (all_exited) {
            /* The process exits when this thread returns (glibc: last thread calls exit(0)). */
            TL_REAL(mutex_unlock)(&collector_lock);
            tl_collector_finish(0, "exit");
            return NULL;
        }
    }
    TL_REAL(mutex_unlock)(&collector_lock);
    return NULL;
}

static int start_thread(void)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    int rc = TL_REAL(pthread_create)(&thread, &attr, collector_main, NULL);
    pthread_attr_destroy(&attr);
    if (rc == 0)
        TL_REAL(pthread_setname_np)(thread, "threadlens");
    return rc == 0 ? 0 : -rc;
}

int tl_collector_start(const char *db, const struct tl_process_info *info)
{
    /* A fork child starts again from the copies kept here: never copy onto themselves. */
    if (db != db_file)
        snprintf(db_file, sizeof db_file, "%s", db);
    proc_info = *info;
    if (info->exe != exe_buf)
        snprintf(exe_buf, sizeof exe_buf, "%s", info->exe ? info->exe : "");
    if (info->cmdline != cmdline_buf)
        snprintf(cmdline_buf, sizeof cmdline_buf, "%s", info->cmdline ? info->cmdline : "");
    proc_info.exe = exe_buf;
    proc_info.cmdline = cmdline_buf;
    int rc = tl_store_open(db_file, &proc_info);
    if (rc < 0)
        return rc;
    rc = start_thread();
    if (rc < 0) {
        tl_store_close();
        return rc;
    }
    started = 1;
    return 0;
}

static void print_summary(void)
{
    int total = 0, errors = 0;
    for (struct tl_finding *f = findings; f; f = f->next_open) {
        total++;
        errors += f->written_severity == TL_SEVERITY_ERROR;
    }
    if (total == 0)
        return;
    tl_log(TL_LOG_ERROR, "%d finding%s, %d error%s: threadlens-top --report %s", total,
           total == 1 ? "" : "s", errors, errors == 1 ? "" : "s", db_file);
}

static void guard_enter(void)
{
    if (tl_self)
        tl_self->in_agent++;
}

static void guard_leave(void)
{
    if (tl_self)
        tl_self->in_agent--;
}

void tl_collector_finish(int status, const char *reason)
{
    guard_enter();
    int saved_errno = errno;
    tl_collector_ensure_started();
    TL_REAL(mutex_lock)(&collector_lock);
    if (started && !finished) {
        tick_locked();
        finished = 1;
        if (!stopping && tl_store_is_open()) {
            if (tl_store_begin() == 0 && tl_store_process_end(tl_now_ns(), status, reason) == 0)
                tl_store_commit();
            print_summary();
            stopping = 1;
            tl_store_close();
        }
        pthread_cond_broadcast(&wake);
    }
    TL_REAL(mutex_unlock)(&collector_lock);
    errno = saved_errno;
    guard_leave();
}

void tl_collector_flush_for_exec(void)
{
    guard_enter();
    TL_REAL(mutex_lock)(&collector_lock);
    if (started && !finished) {
        tick_locked();
        if (!stopping && tl_store_begin() == 0 &&
            tl_store_process_end(tl_now_ns(), -1, "exec") == 0)
            tl_store_commit();
    }
    TL_REAL(mutex_unlock)(&collector_lock);
    guard_leave();
}

void tl_collector_exec_failed(void)
{
    guard_enter();
    TL_REAL(mutex_lock)(&collector_lock);
    if (started && !finished && !stopping && tl_store_begin() == 0 &&
        tl_store_process_end(0, -1, NULL) == 0)
        tl_store_commit();
    TL_REAL(mutex_unlock)(&collector_lock);
    guard_leave();
}

void tl_collector_after_fork_child(void)
{
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    collector_lock = fresh;
    tl_store_abandon();
    findings = NULL;
    stopping = finished = all_exited = started = 0;
    pending_child = 1;
}

void tl_collector_ensure_started(void)
{
    if (!pending_child)
        return;
    pending_child = 0;
    struct tl_process_info info = proc_info;
    info.pid = getpid();
    info.ppid = getppid();
    info.start_ns = tl_now_ns();
    if (tl_collector_start(db_file, &info) < 0) {
        tl_log(TL_LOG_ERROR, "cannot record process %d to %s (%s)", info.pid, db_file,
               tl_store_error());
        atomic_store(&tl_active, 0);
    }
}

void tl_collector_all_threads_exited(void)
{
    TL_REAL(mutex_lock)(&collector_lock);
    all_exited = 1;
    pthread_cond_broadcast(&wake);
    TL_REAL(mutex_unlock)(&collector_lock);
}
