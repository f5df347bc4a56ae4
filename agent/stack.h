/*
 * stack.h - call stacks, captured (libgcc's unwinder; libunwind's cached
 * tracer for threads that capture often) and interned: equal stacks share
 * one record, so a record pointer is a stack's identity. Captured only for
 * new facts (a new lock, edge, thread or finding) and heap samples, never
 * per operation.
 * Interning takes stack_lock (a tl_spin). Records live in the arena for the
 * life of the process; `db_id` belongs to the collector.
 *
 * Frames are return addresses (the caller's pc, not the call instruction);
 * the symbolizer looks up pc - 1.
 */
#ifndef TL_STACK_H
#define TL_STACK_H

#include <stdatomic.h>
#include <stdint.h>

#define TL_STACK_MAX 64

struct tl_stack {
    struct tl_stack *next;    /* intern-table chain, under stack_lock */
    uint64_t hash;            /* of the pcs */
    _Atomic int64_t db_id;    /* stack.id once written; collector only */
    void *_Atomic site;       /* the allocation site with this stack, once made (heap.c) */
    uint32_t depth;           /* number of pcs */
    uintptr_t pc[];           /* innermost first */
};

/* A captured frame: its pc and its stack pointer (the callee's CFA). */
struct tl_frame {
    uintptr_t pc;
    uintptr_t sp;
};

/* Where an interposer was called from: return address and CFA of the interposer. */
struct tl_caller {
    uintptr_t pc;
    uintptr_t cfa;
};

/* The interposer's return address. Must be expanded in the interposer itself. */
#define TL_CALLER_PC() ((uintptr_t)__builtin_return_address(0))

/* Must be expanded in the interposer itself, the function the application called. */
#define TL_CALLER() \
    ((struct tl_caller){(uintptr_t)__builtin_return_address(0), (uintptr_t)__builtin_dwarf_cfa()})

void tl_stack_init(unsigned max_depth, uintptr_t agent_lo, uintptr_t agent_hi);
/*
 * Unwinds the calling thread into `out`, leaving out the agent's own frames.
 * Returns the number of frames (0 when unwinding fails). The caller must be
 * inside the agent guard.
 */
int tl_stack_unwind(struct tl_frame *out, int max);
/* Interns pcs[0..n). Returns the shared record, or NULL when the arena is exhausted. */
struct tl_stack *tl_stack_intern(const uintptr_t *pcs, unsigned n);
/* Interns the frames of `frames` from index `from` on. */
struct tl_stack *tl_stack_from_frames(const struct tl_frame *frames, int n, int from);
/*
 * The stack at which a lock still held was acquired: `caller` was recorded at
 * its acquisition; the outer frames still on the current stack (those above
 * caller.cfa) are that acquisition's callers.
 */
struct tl_stack *tl_stack_of_held(const struct tl_frame *frames, int n, struct tl_caller caller);
/* Captures and interns the current stack. NULL on failure. Guard must be set. */
struct tl_stack *tl_stack_capture(void);
/*
 * tl_stack_capture() moves a thread to the faster tracer with a cache after
 * this many captures, for at most this many threads at once (stack.c).
 */
#define TL_STACK_FAST_AFTER 64
#define TL_STACK_FAST_THREADS 16
/* Slots of the faster tracer no thread holds. */
int tl_stack_fast_slots_free(void);
/*
 * Collector only, at each of its looks between ticks: loads the faster
 * tracer (libunwind) once a thread has asked for it. Until then threads keep
 * libgcc's.
 */
void tl_stack_load_fast(void);
/* The calling thread is exiting: gives back its fast tracer's slot, if it has one. */
void tl_stack_thread_exit(void);
/* Fork child: the table lock may have been held by a vanished thread. */
void tl_stack_after_fork_child(void);

/* fork: hold the table lock across fork so the child inherits a consistent table. */
void tl_stack_fork_prepare(void);
void tl_stack_fork_parent(void);

#endif
