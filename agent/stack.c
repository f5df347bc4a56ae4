/* stack.c - capture (libgcc's unwinder; libunwind's, loaded later) and interning of stacks. */
#include "stack.h"

#include <dlfcn.h>
#include <string.h>
#include <unwind.h>

#include "arena.h"
#include "log.h"
#include "spin.h"

#define TABLE_SIZE 4096

static struct tl_spin stack_lock = TL_SPIN_INIT;
static struct tl_stack *table[TABLE_SIZE]; /* under stack_lock */
static unsigned max_depth = 24;            /* set at init */
static uintptr_t agent_lo, agent_hi;       /* our own text, set at init */

void tl_stack_init(unsigned depth, uintptr_t lo, uintptr_t hi)
{
    if (depth < 1)
        depth = 1;
    max_depth = depth > TL_STACK_MAX ? TL_STACK_MAX : depth;
    agent_lo = lo;
    agent_hi = hi;
}

static int in_agent_text(uintptr_t pc)
{
    return pc >= agent_lo && pc < agent_hi;
}

struct walk {
    struct tl_frame *out;
    int max, n;
    int seen; /* frames visited, tl_stack_unwind's own first */
};

/*
 * A context's IP is a return address into its frame and its CFA the callee's,
 * which is this frame's stack pointer at the call: libunwind's UNW_REG_SP.
 */
static _Unwind_Reason_Code walk_frame(struct _Unwind_Context *ctx, void *arg)
{
    struct walk *w = arg;
    uintptr_t pc = _Unwind_GetIP(ctx);
    if (pc == 0 || w->n == w->max)
        return _URC_END_OF_STACK;
    if (w->seen++ > 0 && !in_agent_text(pc))
        w->out[w->n++] = (struct tl_frame){pc, _Unwind_GetCFA(ctx)};
    return _URC_NO_REASON;
}

/*
 * libgcc's unwinder, linked into the agent (-static-libgcc), which gives
 * each frame's CFA without system calls:
 * libunwind's unw_step() blocks and unblocks every signal around each frame
 * and checks addresses with mincore(). On memcached, which keeps learning
 * lock edges from its hashed item locks, that was 334,000 rt_sigprocmask and
 * 9,700 mincore calls for 40,000 requests.
 */
int tl_stack_unwind(struct tl_frame *out, int max)
{
    struct walk w = {out, max, 0, 0};
    _Unwind_Backtrace(walk_frame, &w);
    return w.n;
}

static uint64_t hash_pcs(const uintptr_t *pcs, unsigned n)
{
    uint64_t h = 1469598103934665603ull;
    for (unsigned i = 0; i < n; i++) {
        h ^= pcs[i];
        h *= 1099511628211ull;
    }
    return h ^ n;
}

struct tl_stack *tl_stack_intern(const uintptr_t *pcs, unsigned n)
{
    if (n > max_depth)
        n = max_depth;
    uint64_t h = hash_pcs(pcs, n);
    struct tl_stack **bucket = &table[h % TABLE_SIZE];
    tl_spin_lock(&stack_lock);
    struct tl_stack *s;
    for (s = *bucket; s; s = s->next)
        if (s->hash == h && s->depth == n && memcmp(s->pc, pcs, n * sizeof *pcs) == 0)
            goto out;
    s = tl_arena_alloc(sizeof *s + n * sizeof *pcs);
    if (s) {
        s->hash = h;
        s->depth = n;
        memcpy(s->pc, pcs, n * sizeof *pcs);
        s->next = *bucket;
        *bucket = s;
    }
out:
    tl_spin_unlock(&stack_lock);
    return s;
}

struct tl_stack *tl_stack_from_frames(const struct tl_frame *frames, int n, int from)
{
    uintptr_t pcs[TL_STACK_MAX];
    unsigned k = 0;
    for (int i = from; i < n && k < TL_STACK_MAX; i++)
        pcs[k++] = frames[i].pc;
    return tl_stack_intern(pcs, k);
}

struct tl_stack *tl_stack_of_held(const struct tl_frame *frames, int n, struct tl_caller caller)
{
    uintptr_t pcs[TL_STACK_MAX];
    unsigned k = 0;
    pcs[k++] = caller.pc;
    for (int i = 0; i < n && k < TL_STACK_MAX; i++)
        if (frames[i].sp > caller.cfa)
            pcs[k++] = frames[i].pc;
    return tl_stack_intern(pcs, k);
}

/*
 * Return addresses only, from one of two tracers (never unw_step(): see
 * tl_stack_unwind). libgcc's unwinder (tl_stack_unwind) reads each frame's
 * CFI afresh, about 1,700 instructions a frame, 15,000 for a heap sample's
 * stack. libunwind's unw_backtrace() keeps a per-thread cache of frame rules
 * and then costs about 2,000 for the whole stack; but its cache is 256 KiB
 * of resident memory per thread, and filling it costs tens of microseconds
 * (signal masks, mmap, page faults). So a thread moves to it only after
 * TL_STACK_FAST_AFTER captures, which short-lived threads never reach, and
 * at most TL_STACK_FAST_THREADS threads hold a cache at once (one slot each,
 * given back at exit).
 *
 * libunwind is not one of the agent's libraries: with the liblzma it needs,
 * it was two of the four the loader mapped and relocated in every process
 * (0.28 ms a process, bare start of a small program with and without them),
 * and most processes never capture that often. The first thread that wants
 * it asks; the collector loads it at its next look, within 50 ms
 * (tl_stack_load_fast: never a dlopen on a program's thread, which may hold
 * any lock, the loader's too). Until then, and if it cannot be loaded,
 * libgcc's tracer serves.
 */
#define LIBUNWIND_SONAME "libunwind.so.8" /* its ABI since libunwind 1.0 */

typedef int (*backtrace_fn)(void **frames, int max);
static _Atomic(backtrace_fn) fast_tracer; /* unw_backtrace, once loaded */
static atomic_int fast_wanted;            /* a thread asked for it */
static atomic_int fast_slots_free = TL_STACK_FAST_THREADS;
static __thread unsigned captures_here; /* this thread's captures, up to TL_STACK_FAST_AFTER */
static __thread int fast_here;          /* this thread holds a slot */

static int fast_tracer_loaded(void)
{
    if (atomic_load_explicit(&fast_tracer, memory_order_acquire))
        return 1;
    atomic_store_explicit(&fast_wanted, 1, memory_order_relaxed);
    return 0;
}

void tl_stack_load_fast(void)
{
    static int tried;
    if (tried || !atomic_load_explicit(&fast_wanted, memory_order_relaxed))
        return;
    tried = 1;
    void *lib = dlopen(LIBUNWIND_SONAME, RTLD_NOW | RTLD_LOCAL);
    void *fn = lib ? dlsym(lib, "unw_backtrace") : NULL;
    if (!fn)
        tl_log(TL_LOG_INFO, "cannot load %s: heap samples keep libgcc's slower unwinder",
               LIBUNWIND_SONAME);
    backtrace_fn tracer;
    memcpy(&tracer, &fn, sizeof tracer); /* POSIX: dlsym's object pointer is the function's */
    atomic_store_explicit(&fast_tracer, tracer, memory_order_release);
}

static int take_fast_slot(void)
{
    int n = atomic_load_explicit(&fast_slots_free, memory_order_relaxed);
    while (n > 0)
        if (atomic_compare_exchange_weak(&fast_slots_free, &n, n - 1))
            return 1;
    return 0;
}

static int trace(void **raw, int max)
{
    if (!fast_here && ++captures_here >= TL_STACK_FAST_AFTER) {
        captures_here = 0; /* not yet: ask again TL_STACK_FAST_AFTER captures later */
        fast_here = fast_tracer_loaded() && take_fast_slot();
    }
    if (fast_here)
        return atomic_load_explicit(&fast_tracer, memory_order_relaxed)(raw, max);
    struct tl_frame frames[TL_STACK_MAX + 8];
    int n = tl_stack_unwind(frames, max < TL_STACK_MAX + 8 ? max : TL_STACK_MAX + 8);
    for (int i = 0; i < n; i++)
        raw[i] = (void *)frames[i].pc;
    return n;
}

int tl_stack_fast_slots_free(void)
{
    return atomic_load(&fast_slots_free);
}

void tl_stack_thread_exit(void)
{
    if (fast_here) {
        fast_here = 0;
        atomic_fetch_add(&fast_slots_free, 1);
    }
}

struct tl_stack *tl_stack_capture(void)
{
    void *raw[TL_STACK_MAX + 8];
    int n = trace(raw, (int)(sizeof raw / sizeof raw[0]));
    uintptr_t pcs[TL_STACK_MAX];
    unsigned k = 0;
    for (int i = 0; i < n && k < max_depth; i++)
        if (!in_agent_text((uintptr_t)raw[i]))
            pcs[k++] = (uintptr_t)raw[i];
    return tl_stack_intern(pcs, k);
}

void tl_stack_after_fork_child(void)
{
    tl_spin_reset(&stack_lock);
    /* The other threads are gone, and their slots with them. */
    atomic_store(&fast_slots_free, TL_STACK_FAST_THREADS - fast_here);
}

void tl_stack_fork_prepare(void)
{
    tl_spin_lock(&stack_lock);
}

void tl_stack_fork_parent(void)
{
    tl_spin_unlock(&stack_lock);
}
