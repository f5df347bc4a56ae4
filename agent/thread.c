/* thread.c - per-thread records and the registry (see thread.h). */
#include "thread.h"

#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "addrmap.h"
#include "arena.h"
#include "clock.h"
#include "errors.h"
#include "lockops.h"
#include "log.h"
#include "spin.h"

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
    if (take_detach_mark((uintptr_t)handle) || s == NULL) {
        atomic_store(&t->detached_by, by);
        tl_publish(&t->pub);
    }
}

void tl_thread_expect(void)
{
    atomic_fetch_add(&live_count, 1);
}

void tl_thread_unexpect(void)
{
    atomic_fetch_sub(&live_count, 1);
}

struct tl_thread *tl_thread_register(uint32_t creator, struct tl_stack *create_stack,
                                     int precounted)
{
    struct tl_thread *t = tl_arena_alloc_line(sizeof *t);
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

/* A thread the agent has not seen yet: not created through our pthread_create. */
struct tl_thread *tl_thread_self_slow(void)
{
    if (!atomic_load_explicit(&tl_active, memory_order_acquire))
        return NULL;
    return tl_thread_register(0, NULL, 0);
}

void tl_thread_finished(struct tl_thread *t)
{
    if (!atomic_exchange(&t->alive, 0))
        return;
    t->in_agent++;
    tl_lockops_thread_exit(t);
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
