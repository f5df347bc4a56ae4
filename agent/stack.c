/* stack.c - capture (libgcc and libunwind) and interning of call stacks (see stack.h). */
#include "stack.h"

#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <libunwind.h>
#include <string.h>
#include <unwind.h>

#include "arena.h"
#include "spin.h"

#define TABLE_SIZE 4096

static struct tl_spin stack_lock = TL_SPIN_INIT;
static struct tl_stack *table[TABLE_SIZE]; /* under stack_lock */
static unsigned max_depth = 24;            /* set at init */
static uintptr_t agent_lo, agent_hi;       /* our own text, set at init */

/*
 * libgcc's unwinder. libunwind exports the same unversioned names (built on
 * unw_step), so the link binds to libgcc_s's only when it comes first in the
 * lookup order, as our DT_NEEDED does unless the program brings libunwind
 * itself; otherwise find_libgcc_unwinder() looks them up in libgcc_s by
 * version, and these bindings stay when libgcc_s cannot be found.
 */
static struct {
    _Unwind_Reason_Code (*backtrace)(_Unwind_Trace_Fn, void *);
    _Unwind_Ptr (*get_ip)(struct _Unwind_Context *);
    _Unwind_Word (*get_cfa)(struct _Unwind_Context *);
} unwinder = {_Unwind_Backtrace, _Unwind_GetIP, _Unwind_GetCFA};

static int from_libgcc(void *fn)
{
    Dl_info info;
    return dladdr(fn, &info) && info.dli_fname && strstr(info.dli_fname, "/libgcc_s.") != NULL;
}

static void find_libgcc_unwinder(void)
{
    /* The usual case, our own DT_NEEDED first in line: no dlopen (a tenth of a millisecond). */
    if (from_libgcc((void *)unwinder.backtrace) && from_libgcc((void *)unwinder.get_ip) &&
        from_libgcc((void *)unwinder.get_cfa))
        return;
    void *gcc = dlopen("libgcc_s.so.1", RTLD_LAZY | RTLD_NOLOAD); /* a DT_NEEDED of ours */
    if (!gcc)
        return;
    void *bt = dlvsym(gcc, "_Unwind_Backtrace", "GCC_3.3");
    void *ip = dlvsym(gcc, "_Unwind_GetIP", "GCC_3.0");
    void *cfa = dlvsym(gcc, "_Unwind_GetCFA", "GCC_3.3");
    if (bt && ip && cfa) {
        *(void **)&unwinder.backtrace = bt;
        *(void **)&unwinder.get_ip = ip;
        *(void **)&unwinder.get_cfa = cfa;
    }
    dlclose(gcc);
}

void tl_stack_init(unsigned depth, uintptr_t lo, uintptr_t hi)
{
    if (depth < 1)
        depth = 1;
    max_depth = depth > TL_STACK_MAX ? TL_STACK_MAX : depth;
    agent_lo = lo;
    agent_hi = hi;
    find_libgcc_unwinder();
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
    uintptr_t pc = unwinder.get_ip(ctx);
    if (pc == 0 || w->n == w->max)
        return _URC_END_OF_STACK;
    if (w->seen++ > 0 && !in_agent_text(pc))
        w->out[w->n++] = (struct tl_frame){pc, unwinder.get_cfa(ctx)};
    return _URC_NO_REASON;
}

/*
 * libgcc's unwinder, which gives each frame's CFA without system calls:
 * libunwind's unw_step() blocks and unblocks every signal around each frame
 * and checks addresses with mincore(). On memcached, which keeps learning
 * lock edges from its hashed item locks, that was 334,000 rt_sigprocmask and
 * 9,700 mincore calls for 40,000 requests.
 */
int tl_stack_unwind(struct tl_frame *out, int max)
{
    struct walk w = {out, max, 0, 0};
    unwinder.backtrace(walk_frame, &w);
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
 * tl_stack_unwind). libgcc's unwinder (tl_stack_unwind, called directly:
 * glibc's backtrace() would dlopen libgcc_s on its first call, so it had to
 * be warmed at start, a quarter of a millisecond of every process) reads
 * each frame's CFI afresh, about 1,700 instructions a frame, 15,000 for a
 * heap sample's stack. libunwind's unw_backtrace() keeps a per-thread cache of
 * frame rules and then costs about 2,000 for the whole stack; but its cache
 * is 256 KiB of resident memory per thread, and filling it costs tens of
 * microseconds (signal masks, mmap, page faults). So a thread moves to it
 * only after TL_STACK_FAST_AFTER captures, which short-lived threads never
 * reach, and at most TL_STACK_FAST_THREADS threads hold a cache at once (one
 * slot each, given back at exit).
 */
static atomic_int fast_slots_free = TL_STACK_FAST_THREADS;
static __thread unsigned captures_here; /* this thread's captures, up to TL_STACK_FAST_AFTER */
static __thread int fast_here;          /* this thread holds a slot */

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
        captures_here = 0; /* no slot: ask again TL_STACK_FAST_AFTER captures later */
        fast_here = take_fast_slot();
    }
    if (fast_here)
        return unw_backtrace(raw, max);
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
