/* wait.c - wait records and on-demand stacks of blocked threads (see wait.h). */
#include "wait.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "lockmap.h"
#include "procstat.h"
#include "stack.h"

#define ANSWER_WAIT_NS (200 * 1000000LL) /* how long the collector waits for handlers */

static int stack_signal;                 /* 0: never signal; set once at init */
static uintptr_t libc_lo, libc_hi;       /* libc's text: the real call's own frames */

int tl_wait_read(struct tl_thread *t, struct tl_wait_snapshot *out)
{
    unsigned seq = atomic_load_explicit(&t->wait.seq, memory_order_acquire);
    if (!(seq & 1))
        return 0;
    out->seq = seq;
    uintptr_t what = atomic_load_explicit(&t->wait.what, memory_order_relaxed);
    out->kind = (int)(what & 15);
    out->addr = what >> 4;
    out->caller.pc = atomic_load_explicit(&t->wait.pc, memory_order_relaxed);
    out->caller.cfa = 0;
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&t->wait.seq, memory_order_relaxed) != seq)
        return 0;
    /* The record is the thread's; the lock's record is looked up here, off the hot path. */
    out->lock = tl_wait_is_lock(out->kind) ? tl_lockmap_find(out->addr) : NULL;
    return 1;
}

int tl_wait_same(struct tl_thread *t, unsigned seq)
{
    return atomic_load_explicit(&t->wait.seq, memory_order_acquire) == seq;
}

const char *tl_wait_kind_name(int kind)
{
    switch (kind) {
    case TL_WAIT_MUTEX: return "mutex";
    case TL_WAIT_RWLOCK_READ:
    case TL_WAIT_RWLOCK_WRITE: return "rwlock";
    case TL_WAIT_SPIN: return "spinlock";
    case TL_WAIT_C11_MUTEX: return "c11-mutex";
    case TL_WAIT_COND: return "cond";
    case TL_WAIT_SEM: return "sem";
    case TL_WAIT_BARRIER: return "barrier";
    case TL_WAIT_JOIN: return "join";
    default: return "none";
    }
}

int tl_wait_is_lock(int kind)
{
    return kind >= TL_WAIT_MUTEX && kind <= TL_WAIT_C11_MUTEX;
}

/*
 * Runs on the blocked thread, interrupting its futex wait (which glibc
 * restarts for every wait kind we signal). Unwinds through the signal frame
 * and keeps the frames after the interposer: the application's call chain.
 * Async-signal-safe: libgcc's unwinder (the agent's own copy, whose lock no
 * program code takes; the loader's lock in dl_iterate_phdr is not held by a
 * thread blocked in one of our interposers) and plain stores only.
 */
static void on_stack_signal(int sig, siginfo_t *info, void *uctx)
{
    (void)sig;
    (void)info;
    (void)uctx;
    int saved_errno = errno;
    struct tl_thread *t = tl_self;
    if (!t) {
        errno = saved_errno;
        return;
    }
    t->in_agent++; /* the unwinder may lock: straight to the real functions */
    unsigned req = atomic_load_explicit(&t->wait.stack_req, memory_order_acquire);
    if (req && req == atomic_load_explicit(&t->wait.seq, memory_order_acquire)) {
        struct tl_frame all[TL_STACK_MAX + 32];
        int n = tl_stack_unwind(all, (int)(sizeof all / sizeof all[0]));
        /*
         * Innermost first, the agent's frames left out: the signal trampoline
         * and the real call's frames in libc, then the program.
         */
        int start = 0;
        while (start < n && all[start].pc >= libc_lo && all[start].pc < libc_hi)
            start++;
        int k = n - start < TL_STACK_MAX ? n - start : TL_STACK_MAX;
        memcpy(t->wait.frames, all + start, (size_t)k * sizeof *all);
        t->wait.nframes = k;
        atomic_store_explicit(&t->wait.stack_seq, req, memory_order_release);
    }
    t->in_agent--;
    errno = saved_errno;
}

int tl_wait_stack_init(int signal, const uintptr_t libc_text[2])
{
    libc_lo = libc_text[0];
    libc_hi = libc_text[1];
    if (signal <= 0)
        return 0;
    struct sigaction old, sa;
    if (sigaction(signal, NULL, &old) != 0 || old.sa_handler != SIG_DFL)
        return TL_EINVAL; /* the program uses it: never signal */
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_stack_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    if (sigaction(signal, &sa, NULL) != 0)
        return TL_EINVAL;
    stack_signal = signal;
    return 0;
}

/* The handler is still ours: the program may have taken the signal over since. */
static int handler_installed(void)
{
    struct sigaction cur;
    return stack_signal > 0 && sigaction(stack_signal, NULL, &cur) == 0 &&
           (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_stack_signal;
}

static int wait_kind(struct tl_thread *t)
{
    return (int)(atomic_load_explicit(&t->wait.what, memory_order_relaxed) & 15);
}

static int answered(struct tl_thread *t, unsigned seq)
{
    return atomic_load_explicit(&t->wait.stack_seq, memory_order_acquire) == seq;
}

/* The signal-set field `key` ("\nSigBlk:") of a /proc status text: a hex mask. */
static uint64_t signal_set(const char *text, const char *key)
{
    const char *p = tl_procfs_field(text, key);
    return p ? strtoull(p, NULL, 16) : 0;
}

/*
 * Whether thread `tid` could run the handler now: it does not block the
 * signal (xz, for one, blocks every signal in its workers) and has no
 * request of ours pending already. Asking one that cannot answer would only
 * make the collector wait ANSWER_WAIT_NS for nothing.
 */
static int can_answer(pid_t tid)
{
    char path[64], text[2048];
    snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)tid);
    if (tl_procfs_read(path, text, sizeof text) <= 0)
        return 1; /* no /proc: ask anyway, the wait stays bounded */
    uint64_t bit = 1ull << (stack_signal - 1);
    return !(signal_set(text, "\nSigBlk:") & bit) && !(signal_set(text, "\nSigPnd:") & bit);
}

void tl_wait_request_stacks(struct tl_thread **threads, const unsigned *seqs, int n)
{
    if (!handler_installed())
        return;
    unsigned char *sent = calloc((size_t)(n ? n : 1), 1); /* collector: the real malloc */
    if (!sent)
        return;
    pid_t pid = getpid();
    int asked = 0;
    for (int i = 0; i < n; i++) {
        struct tl_thread *t = threads[i];
        /* sem_wait returns EINTR on any handled signal: never interrupt it. */
        if (wait_kind(t) == TL_WAIT_SEM && (seqs[i] & 1))
            continue;
        if (answered(t, seqs[i]) || !can_answer(t->tid))
            continue; /* this wait's stack is in already, or cannot come */
        /* No answer yet: an episode's seq may equal the last answer's (0 before any wait). */
        atomic_store_explicit(&t->wait.stack_seq, ~0u, memory_order_relaxed);
        atomic_store_explicit(&t->wait.stack_req, seqs[i], memory_order_release);
        sent[i] = tl_wait_same(t, seqs[i]) && syscall(SYS_tgkill, pid, t->tid, stack_signal) == 0;
        asked += sent[i];
    }
    for (int64_t waited = 0; asked && waited < ANSWER_WAIT_NS; waited += 1000000) {
        int missing = 0;
        for (int i = 0; i < n; i++)
            missing += sent[i] && tl_wait_same(threads[i], seqs[i]) &&
                       !answered(threads[i], seqs[i]);
        if (!missing)
            break;
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    free(sent);
}

int tl_wait_stack(struct tl_thread *t, unsigned seq, struct tl_frame *out, int max)
{
    if (answered(t, seq) && t->wait.nframes > 0) {
        int n = t->wait.nframes < max ? t->wait.nframes : max;
        memcpy(out, t->wait.frames, (size_t)n * sizeof *out);
        return n;
    }
    out[0].pc = atomic_load_explicit(&t->wait.pc, memory_order_relaxed);
    out[0].sp = 0;
    return 1;
}
