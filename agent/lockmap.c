/* lockmap.c - address -> lock record (see lockmap.h). */
#include "lockmap.h"

#include "addrmap.h"
#include "arena.h"
#include "clock.h"
#include "log.h"

static struct tl_addrmap map;  /* lock-free */
static atomic_uint next_id = 1;
static atomic_uint live_records; /* records published, lost races excluded */
static atomic_int full_logged;
static struct tl_lock *_Atomic all_locks; /* push-only list of records in use */

int tl_lockmap_init(unsigned order)
{
    return tl_addrmap_init(&map, order);
}

struct tl_lock *tl_lockmap_find(uintptr_t addr)
{
    struct tl_addrmap_slot *s = tl_addrmap_slot(&map, addr, 0);
    return s ? atomic_load_explicit(&s->value, memory_order_acquire) : NULL;
}

static void log_full_once(void)
{
    if (!atomic_exchange(&full_logged, 1))
        tl_log(TL_LOG_ERROR, "lock table full; new locks are not tracked (raise max_locks)");
}

static struct tl_lock *new_record(uintptr_t addr, enum tl_lock_kind kind, uint32_t thread_id,
                                  int capture_stack)
{
    struct tl_lock *l = tl_arena_alloc_line(sizeof *l);
    if (!l)
        return NULL;
    l->pub.type = TL_PUB_LOCK;
    l->addr = addr;
    l->kind = (uint8_t)kind;
    l->first_thread = thread_id;
    l->created_ns = tl_now_ns();
    /* The id is taken before the record is visible: edges are keyed by ids. */
    l->id = atomic_fetch_add(&next_id, 1);
    if (capture_stack)
        l->first_stack = tl_stack_capture();
    return l;
}

struct tl_lock *tl_lockmap_get(uintptr_t addr, enum tl_lock_kind kind, uint32_t thread_id,
                               int capture_stack)
{
    struct tl_addrmap_slot *s = tl_addrmap_slot(&map, addr, 1);
    if (!s) {
        log_full_once();
        return NULL;
    }
    struct tl_lock *l = atomic_load_explicit(&s->value, memory_order_acquire);
    if (__builtin_expect(l != NULL, 1))
        return l;
    struct tl_lock *fresh = new_record(addr, kind, thread_id, capture_stack);
    if (!fresh)
        return NULL;
    if (!atomic_compare_exchange_strong_explicit(&s->value, &l, fresh, memory_order_acq_rel,
                                                 memory_order_acquire))
        return l; /* lost the race; the arena keeps our copy (and its id), unused */
    atomic_fetch_add_explicit(&live_records, 1, memory_order_relaxed);
    struct tl_lock *head = atomic_load_explicit(&all_locks, memory_order_relaxed);
    do {
        fresh->next_all = head;
    } while (!atomic_compare_exchange_weak_explicit(&all_locks, &head, fresh,
                                                    memory_order_release, memory_order_relaxed));
    tl_publish(&fresh->pub);
    return fresh;
}

void tl_lockmap_retire(uintptr_t addr)
{
    struct tl_addrmap_slot *s = tl_addrmap_slot(&map, addr, 0);
    if (!s)
        return;
    struct tl_lock *l = atomic_exchange_explicit(&s->value, NULL, memory_order_acq_rel);
    if (!l)
        return;
    atomic_store(&l->retired, 1);
    atomic_store(&l->destroyed_ns, tl_now_ns());
    tl_publish(&l->pub);
}

struct tl_lock *tl_lockmap_all(void)
{
    return atomic_load_explicit(&all_locks, memory_order_acquire);
}

uint32_t tl_lockmap_count(void)
{
    return atomic_load(&live_records);
}

const char *tl_lock_kind_name(int kind)
{
    switch (kind) {
    case TL_LOCK_MUTEX: return "mutex";
    case TL_LOCK_RWLOCK: return "rwlock";
    case TL_LOCK_SPIN: return "spinlock";
    case TL_LOCK_C11: return "c11-mutex";
    }
    return "lock";
}

void tl_lockmap_after_fork_child(void)
{
    tl_addrmap_clear(&map);
    atomic_store(&next_id, 1);
    atomic_store(&live_records, 0);
    atomic_store(&all_locks, NULL);
}
