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
#include "stack.h"
#include "symbols.h"
#include "signals.h"
#include "detect_blocked.h"
#include "detect_deadlock.h"
#include "detect_thread_leak.h"
#include "detect_memory_leak.h"
#include "heap.h"
#include "detect_limits.h"
#include "detect_growth.h"
#include "task.h"
#include "procstat.h"
#include "metrics_file.h"
#include "dbfile.h"
#include "errors.h"
#include "alert.h"
#include "arena.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>

static pthread_mutex_t collector_lock = PTHREAD_MUTEX_INITIALIZER;
static int wake_fd = -1;        /* eventfd: wakes the collector before its tick */
static volatile sig_atomic_t pending_signal; /* a termination signal to flush for */
static struct tl_waitgraph graph; /* rebuilt every tick, collector_lock */
static int new_deadlocks;       /* under collector_lock: reported in the current tick */
static struct tl_pub *backlog;  /* under collector_lock: taken from the queue, not yet written */
static int finishing;           /* under collector_lock: the last tick writes everything */
#define TICK_BATCH 20000        /* records written per tick or drain pass at most */
#define BACKLOG_PAUSE_NS 20000000 /* between passes while a backlog remains */
/*
 * Between ticks the collector looks at the queue every DRAIN_CHECK_NS and
 * writes it out in a drain pass (no detectors, no sample) once DRAIN_AT
 * records wait. A program that makes threads and locks faster than one tick
 * can hold would otherwise keep a tick's worth of dead records (and a
 * backlog behind them) alive: their memory is reused only once their rows
 * are written.
 */
#define DRAIN_CHECK_NS 50000000
#define DRAIN_AT 2048
static unsigned pushes_taken;   /* collector only: tl_publish_pushes() at the last take */
static int64_t next_tick_ns;    /* collector only: when the next full tick is due */
static int64_t drain_ns;        /* under collector_lock: drain passes' time since the last tick */
static int64_t collector_ns;    /* under collector_lock: the samples' tick_ns summed */
static int stopping;            /* under collector_lock: no more ticks */
static int finished;            /* under collector_lock: the process end was written */
static int all_exited;          /* under collector_lock */
static int started;             /* under collector_lock: store open in this process */
static int pending_child;       /* fork child that has not started yet */
static pid_t owner_pid;         /* the process this recording is of (set at start and fork) */
static int open_deferred;       /* under collector_lock: the database is still to be opened */
static atomic_int open_failed;  /* a deferred open failed: the agent stays off */
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
    case TL_PUB_TASK:
        tl_task_write(p);
        break;
    case TL_PUB_SITE: {
        struct tl_site *site = tl_container_of(p, struct tl_site, pub);
        tl_store_site(&(struct tl_site_row){site->id, site->stack, site->first_ns});
        break;
    }
    case TL_PUB_FINDING: {
        struct tl_finding *f = tl_container_of(p, struct tl_finding, pub);
        if (f->db_id == 0) {
            f->next_open = findings;
            findings = f;
            tl_alert_finding(f); /* its command runs once the tick commits */
        }
        tl_store_finding(f);
        break;
    }
    }
}

/* Bytes the heap held when a late attach began: its frees are counted, its allocations were not. */
static int64_t heap_baseline;

void tl_collector_set_heap_baseline(int64_t bytes)
{
    heap_baseline = bytes;
}

static void sum_threads(struct tl_sample *s)
{
    for (struct tl_thread *t = tl_thread_first(); t; t = t->next) {
        s->acquisitions += atomic_load_explicit(&t->acquisitions, memory_order_relaxed);
        s->contentions += atomic_load_explicit(&t->contentions, memory_order_relaxed);
        s->heap_alloc_bytes += atomic_load_explicit(&t->heap_alloc_bytes, memory_order_relaxed);
        s->heap_free_bytes += atomic_load_explicit(&t->heap_free_bytes, memory_order_relaxed);
        s->heap_alloc_count += atomic_load_explicit(&t->heap_alloc_count, memory_order_relaxed);
        s->heap_free_count += atomic_load_explicit(&t->heap_free_count, memory_order_relaxed);
    }
    const struct tl_thread_counters *gone = tl_thread_retired_counters(); /* recycled records */
    s->acquisitions += gone->acquisitions;
    s->contentions += gone->contentions;
    s->heap_alloc_bytes += gone->heap_alloc_bytes;
    s->heap_free_bytes += gone->heap_free_bytes;
    s->heap_alloc_count += gone->heap_alloc_count;
    s->heap_free_count += gone->heap_free_count;
    /* Blocks freed here but allocated before the agent saw them make the difference dip. */
    int64_t live = heap_baseline + (int64_t)(s->heap_alloc_bytes - s->heap_free_bytes);
    s->heap_live_bytes = live > 0 ? live : 0;
    s->heap_live_count = s->heap_alloc_count > s->heap_free_count
                             ? (int64_t)(s->heap_alloc_count - s->heap_free_count) : 0;
}

/* Feeds this tick's series to the trend detector; its findings go out next tick. */
static void observe_growth(const struct tl_sample *s)
{
    tl_growth_observe(TL_SERIES_HEAP, 0, NULL, s->t_ns, (double)s->heap_live_bytes);
    if (s->rss_bytes >= 0)
        tl_growth_observe(TL_SERIES_RSS, 0, NULL, s->t_ns, (double)s->rss_bytes);
    tl_growth_observe(TL_SERIES_THREADS, 0, NULL, s->t_ns, (double)s->threads_live);
    if (s->tasks_total > 0)
        tl_growth_observe(TL_SERIES_TASKS, 0, NULL, s->t_ns, (double)s->tasks_in_flight);
    for (struct tl_site *site = tl_heap_sites(); site; site = site->next_all)
        tl_growth_observe(TL_SERIES_SITE, site->id, site->stack, s->t_ns,
                          (double)atomic_load(&site->live_bytes));
    tl_growth_tick(s->t_ns);
}

/* Per-site live estimates that moved since the last tick. */
static void write_sites(int64_t now)
{
    for (struct tl_site *site = tl_heap_sites(); site; site = site->next_all) {
        int64_t bytes = atomic_load(&site->live_bytes), count = atomic_load(&site->live_count);
        if (bytes != site->written_live_bytes || count != site->written_live_count) {
            tl_store_site_sample(site->id, now, bytes, count, atomic_load(&site->alloc_bytes));
            site->written_live_bytes = bytes;
            site->written_live_count = count;
        }
    }
}

static void take_sample(int64_t now)
{
    struct tl_sample s = {.t_ns = now, .threads_live = tl_thread_live_count(),
                          .threads_total = tl_thread_total_count(),
                          .locks = tl_lockmap_count(), .edges = tl_graph_edge_count(),
                          .tick_ns = last_tick_ns, .tasks_in_flight = -1, .tasks_queued = -1,
                          .tasks_total = -1, .agent_bytes = tl_region_resident()};
    collector_ns += s.tick_ns;
    s.collector_ns = collector_ns;
    sum_threads(&s);
    struct tl_procstat ps;
    tl_procstat_read(&ps);
    s.rss_bytes = ps.rss_bytes;
    s.fds = ps.fds;
    s.ctx_voluntary = ps.ctx_voluntary;
    s.ctx_involuntary = ps.ctx_involuntary;
    s.os_threads = ps.threads;
    tl_task_counts(&s.tasks_in_flight, &s.tasks_queued, &s.tasks_total);
    tl_store_sample(&s);
    tl_metrics_file_write(&proc_info, &s, findings);
    write_sites(now);
    observe_growth(&s);
    tl_limits_tick(&s);
}

/* After the one line saying why: the agent steps aside, the program runs on. */
static void stop_writing(void)
{
    atomic_store(&tl_active, 0);
    stopping = 1;
    tl_store_close();
}

/* The database file was deleted or replaced: what SQLite writes now nobody will read. */
static int database_gone(void)
{
    const char *damage = tl_dbfile_check();
    if (!damage)
        return 0;
    tl_log(TL_LOG_ERROR, "stopped recording: database %s was %s during the run", db_file,
           damage);
    stop_writing();
    return 1;
}

static void stop_recording(void)
{
    tl_log(TL_LOG_ERROR, "stopped recording: database %s failed (%s)", db_file,
           tl_store_error());
    stop_writing();
}

/* Wait-for graph detectors: their findings join this tick's queue. */
static void run_detectors(void)
{
    int64_t now = tl_now_ns();
    if (tl_waitgraph_build(&graph) < 0)
        return;
    new_deadlocks += tl_deadlock_tick(&graph, now);
    tl_blocked_tick(&graph, now, (int64_t)(tl_options.block_threshold * 1e9));
}

/*
 * "lock@stack,..." for the locks `t` holds, read while it runs: entries are
 * written by their thread alone and a torn count only shortens the list; a
 * lock pointer read is always some record the thread stored (records are
 * never freed). Returns a hash of the list to tell whether it changed.
 */
static uint64_t held_list(const struct tl_thread *t, char *buf, size_t size, int with_stacks)
{
    uint64_t h = 1469598103934665603ull;
    size_t len = 0;
    buf[0] = '\0';
    int n = t->nheld < TL_MAX_HELD ? t->nheld : TL_MAX_HELD;
    for (int i = 0; i < n && len + 48 < size; i++) {
        const struct tl_held *e = &t->held[i];
        struct tl_lock *l = e->lock;
        if (!l)
            continue;
        h = (h ^ l->id) * 1099511628211ull;
        h = (h ^ e->caller.pc) * 1099511628211ull;
        if (with_stacks)
            len += (size_t)snprintf(buf + len, size - len, "%s%u@%lld", len ? "," : "", l->id,
                                    (long long)tl_store_pc_stack(e->caller.pc));
    }
    return h;
}

/* Each live thread's wait and held locks, written when they changed. */
static void write_thread_states(int64_t now)
{
    for (int i = 0; i < graph.nlive; i++) {
        struct tl_thread *t = graph.live[i];
        int j = tl_waitgraph_index(&graph, t);
        const struct tl_wg_node *node = j >= 0 ? &graph.nodes[j] : NULL;
        char held[1024];
        uint64_t h = held_list(t, held, sizeof held, 0);
        h = (h ^ (node ? node->wait.seq : 0)) * 1099511628211ull;
        if (h == t->written_state)
            continue;
        held_list(t, held, sizeof held, 1);
        struct tl_stack *stack = NULL;
        if (node) {
            struct tl_frame frame[1];
            tl_wait_stack(t, node->wait.seq, frame, 1);
            stack = frame[0].pc ? tl_stack_intern(&frame[0].pc, 1) : NULL;
        }
        if (tl_store_thread_state(t, now, node ? tl_wait_kind_name(node->wait.kind) : NULL,
                                  node ? node->wait.addr : 0, node ? node->wait.lock : NULL,
                                  node ? t->seen_ns : 0, stack, held[0] ? held : NULL) == 0)
            t->written_state = h;
    }
}

/* At a normal exit: threads still blocked, threads never joined. */
static void exit_detectors(void)
{
    if (tl_waitgraph_build(&graph) < 0)
        return;
    struct tl_thread *exiting = tl_thread_is_agent(tl_self) ? NULL : tl_self;
    tl_blocked_at_exit(&graph, exiting, tl_now_ns());
    tl_thread_leak_at_exit(&graph, exiting);
    tl_memory_leak_at_exit();
    tl_task_leak_at_exit();
}

static void halt_if_asked(void);

/* on_deadlock=abort: the deadlock is in the database; let a supervisor restart us. */
static void abort_if_asked(void)
{
    if (new_deadlocks && tl_options.on_deadlock_abort) {
        tl_log(TL_LOG_ERROR, "aborting the process (on_deadlock=abort)");
        abort();
    }
    new_deadlocks = 0;
}

/*
 * Writes up to `max` queued records, oldest first. What is left waits in
 * `backlog` (still marked queued, so producers do not queue it twice; its
 * latest state is read when it is written) and the collector comes back
 * soon: one tick's transaction stays short, so other writers of the file
 * (an exec'd or forked process) get their turn within the busy timeout.
 */
static void write_batch(size_t max)
{
    if (!backlog) {
        pushes_taken = tl_publish_pushes();
        backlog = tl_publish_take_all();
    }
    for (size_t n = 0; backlog && n < max; n++) {
        struct tl_pub *p = backlog;
        backlog = p->next; /* read before done(): the record may be queued again at once */
        tl_publish_done(p);
        write_record(p);
    }
}

/* Records of gone threads and locks whose rows are written; after the writes. */
static void recycle_records(int tick)
{
    tl_thread_recycle();
    tl_lockmap_recycle(backlog == NULL, tick);
}

static int can_write(void)
{
    return !stopping && tl_store_is_open() && !database_gone();
}

static int begin_or_stop(void)
{
    if (tl_store_begin() == 0)
        return 1;
    stop_recording();
    return 0;
}

static void commit_or_stop(void)
{
    if (tl_store_commit() < 0)
        stop_recording();
}

/* Between ticks: one transaction with a batch of the queue. collector_lock held. */
static void drain_locked(void)
{
    int64_t start = tl_mono_ns();
    if (!can_write() || !begin_or_stop())
        return;
    write_batch(TICK_BATCH);
    recycle_records(0);
    commit_or_stop();
    drain_ns += tl_mono_ns() - start;
}

/* One transaction: the queue, severity changes, a sample. collector_lock held. */
static void tick_locked(void)
{
    int64_t start = tl_mono_ns();
    if (!can_write())
        return;
    tl_symbols_tick();
    run_detectors();
    if (!begin_or_stop())
        return;
    write_batch(finishing ? SIZE_MAX : TICK_BATCH);
    for (struct tl_finding *f = findings; f; f = f->next_open) {
        if (f->kind == TL_FINDING_LOCK_ORDER)
            atomic_store(&f->severity, tl_lock_order_severity(f));
        tl_store_finding(f);
    }
    for (struct tl_lock *l = tl_lockmap_all(); l; l = l->next_all)
        tl_store_lock_counts(l);
    take_sample(tl_now_ns());
    write_thread_states(tl_now_ns());
    recycle_records(1);
    commit_or_stop();
    last_tick_ns = tl_mono_ns() - start + drain_ns;
    drain_ns = 0;
    tl_alert_tick();
    halt_if_asked();
    abort_if_asked();
}

enum collector_work { WORK_TICK, WORK_DRAIN };

static void schedule_next_tick(void)
{
    next_tick_ns = tl_mono_ns() + (int64_t)(tl_options.interval * 1e9);
}

static int queue_is_long(void)
{
    return tl_publish_pushes() - pushes_taken >= DRAIN_AT;
}

/* Waits up to `ns` for a wake-up (all threads gone, a signal, the exit flush); 1 if woken. */
static int wait_for_wake(int64_t ns)
{
    struct pollfd pfd = {.fd = wake_fd, .events = POLLIN};
    if (poll(&pfd, 1, (int)((ns + 999999) / 1000000)) <= 0)
        return 0;
    uint64_t n;
    ssize_t unused = read(wake_fd, &n, sizeof n);
    (void)unused;
    return 1;
}

/*
 * Sleeps until there is work: the tick that is due, a wake-up (handled as a
 * tick), or a queue to drain (a backlog after a short pause, or a long queue).
 */
static enum collector_work sleep_until_work(void)
{
    if (backlog) {
        if (wait_for_wake(BACKLOG_PAUSE_NS) || tl_mono_ns() >= next_tick_ns)
            return WORK_TICK;
        return WORK_DRAIN;
    }
    for (;;) {
        /*
         * A thread that asked for the faster tracer waits at most one look:
         * at a tick's pace, a program that samples its heap hard in its
         * first second did all of it with the slower one.
         */
        tl_stack_load_fast();
        int64_t left = next_tick_ns - tl_mono_ns();
        if (left <= 0)
            return WORK_TICK;
        if (wait_for_wake(left < DRAIN_CHECK_NS ? left : DRAIN_CHECK_NS))
            return WORK_TICK;
        if (queue_is_long())
            return WORK_DRAIN;
    }
}

static int open_store(void)
{
    int rc = tl_store_open(db_file, &proc_info);
    if (rc == 0)
        tl_dbfile_remember(db_file);
    return rc;
}

/*
 * Whether the caller is another process on this one's memory: a vfork child
 * (or a clone() child, which no fork handler saw). Its collector state,
 * database connection and SQLite's locks are the parent's, whose recording
 * goes on; and the file locks are not the child's, so SQLite in it may wait
 * for ever. Its exit or exec must leave them alone. A system call, so only
 * on the ways out of a process.
 */
static int foreign_process(void)
{
    return owner_pid != 0 && getpid() != owner_pid;
}

/*
 * A deferred open (tl_collector_start), by whichever thread needs the
 * database first. collector_lock held.
 */
static void open_if_deferred(void)
{
    if (!open_deferred)
        return;
    open_deferred = 0;
    if (open_store() == 0)
        return;
    tl_log(TL_LOG_ERROR, "cannot record to %s (%s); running without threadlens", db_file,
           tl_store_error());
    stopping = 1;
    atomic_store(&open_failed, 1);
    atomic_store(&tl_active, 0);
}

static atomic_int collector_running; /* a collector thread exists (detach waits for it to end) */

static void *collector_loop(void);

static void *collector_main(void *arg)
{
    (void)arg;
    /* Named by itself: one prctl, where naming another thread writes its /proc comm file. */
    TL_REAL(pthread_setname_np)(pthread_self(), "threadlens");
    void *result = collector_loop();
    atomic_store(&collector_running, 0); /* its last touch of the agent's state */
    return result;
}

static void *collector_loop(void)
{
    tl_thread_enter_agent_for_life();
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* the program's signals go to its own threads */
    TL_REAL(mutex_lock)(&collector_lock);
    open_if_deferred();
    int failed = stopping;
    TL_REAL(mutex_unlock)(&collector_lock);
    if (failed)
        return NULL;
    schedule_next_tick();
    for (;;) {
        enum collector_work work = sleep_until_work();
        if (work == WORK_TICK)
            schedule_next_tick();
        TL_REAL(mutex_lock)(&collector_lock);
        if (stopping) {
            TL_REAL(mutex_unlock)(&collector_lock);
            return NULL;
        }
        int signal = pending_signal, done = all_exited;
        if (!signal && work == WORK_DRAIN)
            drain_locked();
        else if (!signal)
            tick_locked();
        TL_REAL(mutex_unlock)(&collector_lock);
        if (signal) {
            tl_collector_finish(-1, "signal");
            tl_signals_flushed();
            return NULL;
        }
        if (done) {
            /* The process exits when this thread returns (glibc: last thread calls exit(0)). */
            tl_collector_finish(0, "exit");
            return NULL;
        }
    }
}

static void wake_collector(void)
{
    uint64_t one = 1;
    ssize_t unused = write(wake_fd, &one, sizeof one); /* async-signal-safe */
    (void)unused;
}

void tl_collector_on_signal(int signal)
{
    if (!started || wake_fd < 0 || !atomic_load(&collector_running)) {
        tl_signals_flushed();
        return;
    }
    pending_signal = signal;
    wake_collector();
}

static int start_thread(void)
{
    if (wake_fd < 0)
        wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd < 0)
        return TL_EIO;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    atomic_store(&collector_running, 1);
    int rc = TL_REAL(pthread_create)(&thread, &attr, collector_main, NULL);
    if (rc != 0)
        atomic_store(&collector_running, 0);
    pthread_attr_destroy(&attr);
    return rc == 0 ? 0 : -rc;
}

int tl_collector_start(const char *db, const struct tl_process_info *info, int defer_open)
{
    /* A fork child starts again from the copies kept here: never copy onto themselves. */
    if (db != db_file)
        snprintf(db_file, sizeof db_file, "%s", db);
    proc_info = *info;
    owner_pid = info->pid;
    if (info->exe != exe_buf)
        snprintf(exe_buf, sizeof exe_buf, "%s", info->exe ? info->exe : "");
    if (info->cmdline != cmdline_buf)
        snprintf(cmdline_buf, sizeof cmdline_buf, "%s", info->cmdline ? info->cmdline : "");
    proc_info.exe = exe_buf;
    proc_info.cmdline = cmdline_buf;
    int rc = defer_open ? 0 : open_store();
    if (rc < 0)
        return rc;
    open_deferred = defer_open;
    rc = start_thread();
    if (rc < 0) {
        open_deferred = 0;
        tl_store_close();
        return rc;
    }
    started = 1;
    return 0;
}

/* Counts the findings that were not suppressed (and how many were). Returns the errors. */
static int count_errors(int *total, int *suppressed)
{
    int errors = 0;
    *total = *suppressed = 0;
    for (struct tl_finding *f = findings; f; f = f->next_open) {
        if (f->suppressed) {
            (*suppressed)++;
            continue;
        }
        (*total)++;
        errors += f->written_severity == TL_SEVERITY_ERROR;
    }
    return errors;
}

static void print_summary(void)
{
    int total, quiet, errors = count_errors(&total, &quiet);
    if ((total == 0 && quiet == 0) || !tl_options.print_summary)
        return;
    char suppressed[48] = "";
    if (quiet)
        snprintf(suppressed, sizeof suppressed, " (%d suppressed)", quiet);
    tl_log(TL_LOG_ERROR, "%d finding%s, %d error%s%s: threadlens-top --report %s", total,
           total == 1 ? "" : "s", errors, errors == 1 ? "" : "s", suppressed, db_file);
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

/*
 * exitcode=N: a run with error findings ends with status N (TSan's
 * exitcode). Called once everything is written; stdio is flushed by hand
 * because _exit skips the rest of exit().
 */
static void exit_with_code_if_asked(int replace, int code)
{
    if (!replace)
        return;
    fflush(NULL);
    TL_REAL(_exit)(code);
}

/*
 * halt_on_error=1 (TSan's meaning): once an error finding that is not
 * suppressed is committed, the process ends with exitcode's status, else
 * TL_HALT_EXITCODE. Runs at the end of a tick, collector_lock held, on the
 * collector or on the thread doing the exit flush.
 */
static void halt_if_asked(void)
{
    int total, quiet;
    if (!tl_options.halt_on_error || finished || stopping || pending_signal ||
        count_errors(&total, &quiet) == 0)
        return;
    int code = tl_options.exitcode >= 0 ? tl_options.exitcode : TL_HALT_EXITCODE;
    finished = 1;
    if (tl_store_begin() == 0 &&
        tl_store_process_end(tl_now_ns(), code, "halt_on_error") == 0)
        tl_store_commit();
    print_summary();
    tl_log(TL_LOG_ERROR, "halt_on_error: ending the process with status %d", code);
    stopping = 1;
    tl_store_close();
    tl_alert_finish();
    exit_with_code_if_asked(1, code);
}

void tl_collector_finish(int status, const char *reason)
{
    if (foreign_process())
        return;
    guard_enter();
    int saved_errno = errno;
    int replace = 0;
    tl_collector_ensure_started();
    TL_REAL(mutex_lock)(&collector_lock);
    open_if_deferred();
    if (started && !finished) {
        int exiting = reason && strcmp(reason, "exit") == 0;
        if (exiting)
            exit_detectors();
        finishing = 1;
        tick_locked();
        finished = 1;
        int total, quiet;
        replace = exiting && tl_options.exitcode >= 0 && count_errors(&total, &quiet) > 0;
        if (!stopping && tl_store_is_open()) {
            if (tl_store_begin() == 0 &&
                tl_store_process_end(tl_now_ns(), replace ? tl_options.exitcode : status,
                                     reason) == 0)
                tl_store_commit();
            print_summary();
            stopping = 1;
            tl_store_close();
        }
        tl_alert_finish();
        wake_collector();
    }
    TL_REAL(mutex_unlock)(&collector_lock);
    exit_with_code_if_asked(replace, tl_options.exitcode);
    errno = saved_errno;
    guard_leave();
}

void tl_collector_flush_for_exec(void)
{
    if (foreign_process())
        return;
    guard_enter();
    TL_REAL(mutex_lock)(&collector_lock);
    open_if_deferred();
    if (started && !finished) {
        finishing = 1; /* the image ends here unless exec fails */
        tick_locked();
        finishing = 0;
        if (!stopping && tl_store_begin() == 0 &&
            tl_store_process_end(tl_now_ns(), -1, "exec") == 0)
            tl_store_commit();
    }
    TL_REAL(mutex_unlock)(&collector_lock);
    guard_leave();
}

void tl_collector_exec_failed(void)
{
    if (foreign_process())
        return;
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
    stopping = finished = all_exited = started = finishing = 0;
    collector_ns = 0;
    backlog = NULL;
    pending_signal = 0;
    new_deadlocks = 0;
    if (wake_fd >= 0)
        close(wake_fd); /* the parent's eventfd is shared with the child: take a fresh one */
    wake_fd = -1;
    pending_child = 1;
    owner_pid = getpid();
}

void tl_collector_fork_prepare(void)
{
    if (!atomic_load(&collector_running))
        return;
    TL_REAL(mutex_lock)(&collector_lock);
    open_if_deferred();
    TL_REAL(mutex_unlock)(&collector_lock);
}

/*
 * Not under collector_lock, which the collector holds for the whole open.
 * Both sides store first and look second (seq_cst): whichever looks last
 * sees the other's store, so the agent ends up off.
 */
void tl_collector_activate(void)
{
    atomic_store(&tl_active, 1);
    if (atomic_load(&open_failed))
        atomic_store(&tl_active, 0);
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
    if (tl_collector_start(db_file, &info, 0) < 0) {
        tl_log(TL_LOG_ERROR, "cannot record process %d to %s (%s)", info.pid, db_file,
               tl_store_error());
        atomic_store(&tl_active, 0);
    }
}

void tl_collector_detach(void)
{
    tl_collector_finish(-1, "detach");
    struct timespec ms = {0, 1000000};
    for (int i = 0; i < 5000 && atomic_load(&collector_running); i++)
        nanosleep(&ms, NULL);
}

int tl_collector_resume(void)
{
    if (atomic_load(&collector_running))
        return TL_EIO; /* the last one never ended: do not run two */
    TL_REAL(mutex_lock)(&collector_lock);
    stopping = finished = finishing = all_exited = 0;
    pending_signal = 0;
    int rc = tl_store_open(db_file, NULL);
    if (rc == 0)
        tl_dbfile_remember(db_file);
    if (rc == 0) {
        rc = start_thread();
        if (rc < 0)
            tl_store_close();
    }
    started = rc == 0;
    TL_REAL(mutex_unlock)(&collector_lock);
    return rc;
}

void tl_collector_all_threads_exited(void)
{
    TL_REAL(mutex_lock)(&collector_lock);
    all_exited = 1;
    wake_collector();
    TL_REAL(mutex_unlock)(&collector_lock);
}
