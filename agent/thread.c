/* thread.c - per-thread records and the registry (see thread.h). */
#include "thread.h"

#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "addrmap.h"
#include "arena.h"
#include "clock.h"
#include "errors.h"
#include "lockops.h"
#include "log.h"
#include "spin.h"
#include "stack.h"
#include "stack_cache.h"

__thread struct tl_thread *tl_self __attribute__((tls_model("initial-exec")));
atomic_int tl_active;

static struct tl_spin registry_lock = TL_SPIN_INIT;
static struct tl_thread *_Atomic registry;  /* push-only list, under registry_lock */
static atomic_uint next_id = 1;
static atomic_uint live_count;
static atomic_uint total_count;
static struct tl_addrmap handles;           /* pthread_t -> record */
static struct tl_addrmap detach_marks;      /* pthread_t detached before its thread registered */
static pthread_key_t exit_key;              /* its destructor sees each thread finish */
static void (*all_exited_hook)(void);
static struct tl_thread collector_self = {.in_agent = 1};

static void on_thread_exit(void *arg)
{
    struct tl_thread *t = arg;
    tl_thread_finished(t);
}

int tl_thread_init(void)
{
    if (pthread_key_create(&exit_key, on_thread_exit) != 0)
        return TL_ENOMEM;
    if (tl_addrmap_init(&handles, 16) < 0)
        return TL_ENOMEM;
    return tl_addrmap_init(&detach_marks, 12);
}

/* Takes the detach mark of `handle`: the detaching thread's id, or 0 when there was none. */
static uint32_t take_detach_mark(uintptr_t handle)
{
    struct tl_addrmap_slot *s = tl_addrmap_slot(&detach_marks, handle, 0);
    return s ? (uint32_t)(uintptr_t)atomic_exchange(&s->value, NULL) : 0;
}

/* A finished record already joined or detached belongs to a former thread with that handle. */
static int former(struct tl_thread *t)
{
    return !atomic_load(&t->alive) && (atomic_load(&t->joined_by) || atomic_load(&t->detached_by));
}

/*
 * Sets joined_by or detached_by and queues the row, as one step for
 * tl_thread_recycle() (which runs under registry_lock): the record is never
 * seen joined (or detached) yet not queued, so it cannot be recycled while
 * this thread still holds a pointer to it.
 */
static void mark_gone_with_row(struct tl_thread *t, _Atomic uint32_t *field, uint32_t by)
{
    tl_spin_lock(&registry_lock);
    atomic_store(field, by);
    tl_publish(&t->pub);
    tl_spin_unlock(&registry_lock);
}

/*
 * A detach can run before the new thread registered (the creator detaches at
 * once): leave a mark the registration takes. Both sides publish first and
 * look second, so one of them always sees the other.
 */
void tl_thread_note_detached(pthread_t handle, uint32_t by)
{
    struct tl_addrmap_slot *s = tl_addrmap_slot(&detach_marks, (uintptr_t)handle, 1);
    if (s)
        atomic_store(&s->value, (void *)(uintptr_t)by);
    struct tl_thread *t = tl_thread_by_handle(handle);
    if (!t || former(t))
        return;
    if (take_detach_mark((uintptr_t)handle) || s == NULL)
        mark_gone_with_row(t, &t->detached_by, by);
}

void tl_thread_note_joined(struct tl_thread *t, uint32_t by)
{
    mark_gone_with_row(t, &t->joined_by, by);
}

void tl_thread_expect(void)
{
    atomic_fetch_add(&live_count, 1);
}

void tl_thread_unexpect(void)
{
    atomic_fetch_sub(&live_count, 1);
}

/*
 * Record recycling. A record can go once its thread is certainly gone (joined,
 * or detached and unknown to the kernel: a detached thread still runs for a
 * while after its TSD destructor) and the collector has written its last
 * row (not queued). Threads that finished but were never joined nor
 * detached are kept: they are the thread leaks reported at exit.
 *
 * The collector unlinks such records from the registry (the only list the
 * collector-side readers walk; they all run on the collector thread or under
 * collector_lock, as tl_thread_recycle() does), folds their counters into
 * `retired` and puts them on the free list at once. No application thread
 * can still hold a pointer to one: the thread itself is gone, and the joiner
 * or detacher that looked the record up marks it and queues its row under
 * registry_lock (mark_gone_with_row), so the record stays queued until that
 * thread is done with it. Findings name threads by id, never by record, so
 * nothing written later can read a reused record.
 */
static struct tl_thread *free_records;      /* under registry_lock */
static struct tl_thread_counters retired;   /* collector only: recycled records' counters */

/* A record from the free list, reset for a new thread; NULL when there is none. */
static struct tl_thread *reuse_record(void)
{
    tl_spin_lock(&registry_lock);
    struct tl_thread *t = free_records;
    if (t)
        free_records = t->next;
    tl_spin_unlock(&registry_lock);
    if (!t)
        return NULL;
    /* Wait episodes keep counting up: an old episode number never matches a new one. */
    unsigned seq = atomic_load(&t->wait.seq) + 2, req = atomic_load(&t->wait.stack_req),
             got = atomic_load(&t->wait.stack_seq);
    struct tl_stack_cache *stack_cache = t->stack_cache; /* arena memory: never freed, so kept */
    memset(t, 0, sizeof *t);
    if (stack_cache)
        tl_stack_cache_reset(stack_cache);
    t->stack_cache = stack_cache;
    atomic_store(&t->wait.seq, seq & ~1u);
    atomic_store(&t->wait.stack_req, req);
    atomic_store(&t->wait.stack_seq, got);
    return t;
}

/* Whether `t`'s thread is certainly gone and its data written. Collector only. */
static int recyclable(struct tl_thread *t)
{
    if (t == &collector_self || atomic_load(&t->alive) || atomic_load(&t->pub.queued))
        return 0;
    if (atomic_load(&t->joined_by))
        return 1; /* a join returns once the kernel thread is gone */
    if (!atomic_load(&t->detached_by))
        return 0; /* finished, never joined nor detached: a leak, reported at exit */
    return syscall(SYS_tgkill, getpid(), t->tid, 0) < 0 && errno == ESRCH;
}

static void add_counters(struct tl_thread_counters *sum, struct tl_thread *t)
{
    sum->acquisitions += atomic_load_explicit(&t->acquisitions, memory_order_relaxed);
    sum->contentions += atomic_load_explicit(&t->contentions, memory_order_relaxed);
    sum->heap_alloc_bytes += atomic_load_explicit(&t->heap_alloc_bytes, memory_order_relaxed);
    sum->heap_free_bytes += atomic_load_explicit(&t->heap_free_bytes, memory_order_relaxed);
    sum->heap_alloc_count += atomic_load_explicit(&t->heap_alloc_count, memory_order_relaxed);
    sum->heap_free_count += atomic_load_explicit(&t->heap_free_count, memory_order_relaxed);
}

void tl_thread_recycle(void)
{
    tl_spin_lock(&registry_lock);
    struct tl_thread *_Atomic *head = &registry;
    struct tl_thread *prev = NULL;
    for (struct tl_thread *t = atomic_load(head), *next; t; t = next) {
        next = t->next;
        if (!recyclable(t)) {
            prev = t;
            continue;
        }
        if (prev)
            prev->next = next;
        else
            atomic_store(head, next);
        add_counters(&retired, t);
        struct tl_addrmap_slot *s = tl_addrmap_slot(&handles, t->handle, 0);
        void *expected = t;
        if (s)
            atomic_compare_exchange_strong(&s->value, &expected, NULL);
        t->next = free_records;
        free_records = t;
    }
    tl_spin_unlock(&registry_lock);
}

const struct tl_thread_counters *tl_thread_retired_counters(void)
{
    return &retired;
}

struct tl_thread *tl_thread_register(uint32_t creator, struct tl_stack *create_stack,
                                     int precounted)
{
    struct tl_thread *t = reuse_record();
    if (!t)
        t = tl_arena_alloc_line(sizeof *t);
    if (!t) {
        if (precounted)
            tl_thread_unexpect();
        return NULL;
    }
    t->pub.type = TL_PUB_THREAD;
    t->id = atomic_fetch_add(&next_id, 1);
    t->tid = (pid_t)syscall(SYS_gettid);
    t->creator = creator;
    t->create_stack = create_stack;
    t->start_ns = tl_now_ns();
    t->handle = (uintptr_t)pthread_self();
    atomic_store(&t->alive, 1);
    tl_self = t;
    tl_spin_lock(&registry_lock);
    t->next = atomic_load_explicit(&registry, memory_order_relaxed);
    atomic_store_explicit(&registry, t, memory_order_release);
    tl_spin_unlock(&registry_lock);
    if (!precounted)
        atomic_fetch_add(&live_count, 1);
    atomic_fetch_add(&total_count, 1);
    struct tl_addrmap_slot *s = tl_addrmap_slot(&handles, t->handle, 1);
    if (s)
        atomic_store_explicit(&s->value, t, memory_order_seq_cst);
    uint32_t detacher = take_detach_mark(t->handle);
    if (detacher)
        atomic_store(&t->detached_by, detacher);
    pthread_setspecific(exit_key, t);
    tl_publish(&t->pub);
    return t;
}

void tl_thread_name_from_kernel(struct tl_thread *t)
{
    char name[17] = "";
    if (prctl(PR_GET_NAME, name) == 0)
        tl_thread_set_name(t, name);
}

/* A thread not created through our pthread_create (or running before an attach). */
struct tl_thread *tl_thread_self_slow(void)
{
    if (!atomic_load_explicit(&tl_active, memory_order_acquire))
        return NULL;
    struct tl_thread *t = tl_thread_register(0, NULL, 0);
    if (t)
        tl_thread_name_from_kernel(t);
    return t;
}

void tl_thread_finished(struct tl_thread *t)
{
    if (!atomic_exchange(&t->alive, 0))
        return;
    t->in_agent++;
    tl_lockops_thread_exit(t);
    tl_stack_thread_exit();
    int expected = TL_END_NONE;
    atomic_compare_exchange_strong(&t->end_how, &expected, TL_END_CANCEL);
    atomic_store(&t->end_ns, tl_now_ns());
    tl_publish(&t->pub);
    t->in_agent--;
    if (atomic_fetch_sub(&live_count, 1) == 1 && all_exited_hook)
        all_exited_hook();
}

struct tl_thread *tl_thread_by_handle(pthread_t handle)
{
    struct tl_addrmap_slot *s = tl_addrmap_slot(&handles, (uintptr_t)handle, 0);
    return s ? atomic_load_explicit(&s->value, memory_order_acquire) : NULL;
}

void tl_thread_set_name(struct tl_thread *t, const char *name)
{
    tl_spin_lock(&registry_lock);
    strncpy(t->name, name, sizeof t->name - 1);
    t->name[sizeof t->name - 1] = '\0';
    tl_spin_unlock(&registry_lock);
    tl_publish(&t->pub);
}

void tl_thread_copy_name(struct tl_thread *t, char out[16])
{
    tl_spin_lock(&registry_lock);
    memcpy(out, t->name, 16);
    tl_spin_unlock(&registry_lock);
}

struct tl_thread *tl_thread_first(void)
{
    return atomic_load_explicit(&registry, memory_order_acquire);
}

uint32_t tl_thread_live_count(void)
{
    return atomic_load(&live_count);
}

uint32_t tl_thread_total_count(void)
{
    return atomic_load(&total_count);
}

void tl_thread_after_fork_child(void)
{
    tl_spin_reset(&registry_lock);
    atomic_store(&registry, NULL);
    atomic_store(&next_id, 1);
    atomic_store(&live_count, 0);
    atomic_store(&total_count, 0);
    free_records = NULL; /* the parent's records: left as they are */
    memset(&retired, 0, sizeof retired);
    tl_addrmap_clear(&handles);
    tl_addrmap_clear(&detach_marks);
    struct tl_thread *parent_rec = tl_self;
    tl_self = NULL;
    if (!parent_rec || parent_rec == &collector_self)
        return;
    /* The forking thread carries its held locks over into its new record. */
    parent_rec->in_agent++;
    struct tl_thread *t = tl_thread_register(0, NULL, 0);
    parent_rec->in_agent--;
    if (!t)
        return;
    memcpy(t->held, parent_rec->held, sizeof t->held);
    t->nheld = parent_rec->nheld;
    t->untracked = parent_rec->untracked;
    tl_thread_copy_name(parent_rec, t->name);
    t->in_agent = parent_rec->in_agent;
}

int tl_thread_is_agent(const struct tl_thread *t)
{
    return t == &collector_self;
}

void tl_thread_enter_agent_for_life(void)
{
    tl_self = &collector_self;
}

void tl_thread_set_all_exited_hook(void (*fn)(void))
{
    all_exited_hook = fn;
}

void tl_thread_fork_prepare(void)
{
    tl_spin_lock(&registry_lock);
}

void tl_thread_fork_parent(void)
{
    tl_spin_unlock(&registry_lock);
}
