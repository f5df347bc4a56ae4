/*
 * wait.h - what a thread is blocked on, right now. Every blocking interposer
 * (lock, rwlock, spinlock, cond, semaphore, barrier, join, and the C11 ones)
 * brackets the real call with tl_wait_begin()/tl_wait_end(): four plain
 * stores in the thread's own record, no clock read, no system call. A mutex
 * lock that looks uncontended skips it (the common case must stay cheap);
 * the wait-for graph finds the rare one that blocks anyway through the
 * kernel (waitgraph.c). The collector reads the record with a seqlock (`seq`
 * is odd while the thread waits) and times waits itself, tick by tick.
 *
 * Where a thread blocks is captured only when a detector asks for it (a
 * deadlock, a long block, a leak at exit): the collector sends the waiting
 * thread the `stack_signal` and its handler unwinds into the record. Waits
 * whose real call would return EINTR on a signal (sem_wait) are never
 * signalled; their stack is the call site alone.
 */
#ifndef TL_WAIT_H
#define TL_WAIT_H

#include <stdatomic.h>
#include <stdint.h>

#include "stack.h"
#include "thread.h"

enum tl_wait_kind {
    TL_WAIT_NONE,
    TL_WAIT_MUTEX,
    TL_WAIT_RWLOCK_READ,
    TL_WAIT_RWLOCK_WRITE,
    TL_WAIT_SPIN,
    TL_WAIT_C11_MUTEX,
    TL_WAIT_COND,
    TL_WAIT_SEM,
    TL_WAIT_BARRIER,
    TL_WAIT_JOIN,
};

/* A consistent copy of a thread's wait, taken by the collector. */
struct tl_wait_snapshot {
    unsigned seq;              /* odd: the episode's identity */
    int kind;                  /* enum tl_wait_kind */
    uintptr_t addr;            /* lock, cond, sem, barrier; the pthread_t for a join */
    struct tl_lock *lock;      /* lock record for lock waits, else NULL */
    struct tl_caller caller;   /* the blocking call's site */
};

/*
 * Starts a wait episode; returns 1, or 0 for a wait inside a wait (a
 * program's signal handler locking while its thread blocks), which leaves the
 * outer one on record. Pass the result to tl_wait_end(). Four stores, all to
 * the thread's own record; x86 keeps them in order, the fences keep the
 * compiler from reordering them.
 */
static inline int tl_wait_begin(struct tl_thread *t, int kind, const void *addr,
                                uintptr_t pc)
{
    unsigned seq = atomic_load_explicit(&t->wait.seq, memory_order_relaxed);
    if (seq & 1)
        return 0;
    atomic_store_explicit(&t->wait.seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release); /* readers see the odd seq before the fields */
    atomic_store_explicit(&t->wait.what, (uintptr_t)addr << 4 | (uintptr_t)kind,
                          memory_order_relaxed);
    atomic_store_explicit(&t->wait.pc, pc, memory_order_release);
    return 1;
}

static inline void tl_wait_end(struct tl_thread *t, int began)
{
    if (!began)
        return;
    unsigned seq = atomic_load_explicit(&t->wait.seq, memory_order_relaxed);
    atomic_store_explicit(&t->wait.seq, seq + 1, memory_order_release);
}

/* Collector: copies `t`'s wait. Returns 1 when it is waiting (snapshot filled), else 0. */
int tl_wait_read(struct tl_thread *t, struct tl_wait_snapshot *out);
/* Collector: whether `t` is still in the episode `seq`. */
int tl_wait_same(struct tl_thread *t, unsigned seq);
const char *tl_wait_kind_name(int kind);
int tl_wait_is_lock(int kind);

/*
 * Installs the stack signal handler (signal 0: never signal). The agent's
 * frames are left out of stacks (tl_stack_unwind), and so are libc frames at
 * the top, in libc_text [lo, hi) (the blocking call's insides). Returns 0,
 * or TL_EINVAL when the program already handles that signal (stacks are then
 * the call site alone).
 */
int tl_wait_stack_init(int signal, const uintptr_t libc_text[2]);
/*
 * Collector: asks each of `threads[0..n)` (all waiting, episode `seqs[i]`)
 * for its stack and waits a bounded time for the answers. Afterwards
 * tl_wait_stack() returns what each thread captured.
 */
void tl_wait_request_stacks(struct tl_thread **threads, const unsigned *seqs, int n);
/*
 * The frames of `t`'s episode `seq`, innermost first, starting at the
 * application's blocking call. Returns the count; when the thread could not
 * answer, the call site alone (1 frame, sp = its cfa).
 */
int tl_wait_stack(struct tl_thread *t, unsigned seq, struct tl_frame *out, int max);

#endif
