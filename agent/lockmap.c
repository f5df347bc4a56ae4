/* lockmap.c - address -> lock record (see lockmap.h). */
#include "lockmap.h"

#include <string.h>

#include "addrmap.h"
#include "arena.h"
#include "clock.h"
#include "log.h"
#include "spin.h"

/*
 * Address -> live record. It grows from MAP_ORDER_MIN slots (addrmap.h):
 * every miss in a thread's lock cache probes it, and at its largest (2M
 * slots, 32 MB) memcached's hashed item locks ran 1.3x slower than with 32k
 * slots. Starting at 4k slots rather than 32k, memcached's 2,800 locks sit
 * in 8k slots (128 KiB, where 512 KiB held them before): the map's lookups
 * took 17% fewer of the server's samples in each of seven pairs of cold
 * passes. Lookups are lock-free; a new key, a record installed or retired
 * take map_lock.
 */
#define MAP_ORDER_MIN 12 /* 64 KiB */

static struct tl_spin map_lock = TL_SPIN_INIT;
static struct tl_growmap map;
static atomic_uint next_id = 1;
static atomic_uint live_records; /* records published, lost races excluded */
static atomic_int full_logged;
static struct tl_lock *_Atomic all_locks; /* push-only list of records in use */

int tl_lockmap_init(unsigned order)
{
    return tl_growmap_init(&map, MAP_ORDER_MIN, order);
}

struct tl_lock *tl_lockmap_find(uintptr_t addr)
{
    return tl_growmap_find(&map, addr);
}

static void log_full_once(void)
{
    if (!atomic_exchange(&full_logged, 1))
        tl_log(TL_LOG_ERROR, "lock table full; new locks are not tracked (raise max_locks)");
}

static struct tl_spin free_lock = TL_SPIN_INIT;
static struct tl_lock *free_records; /* recycled, linked by next_all; under free_lock */
static struct tl_lock *limbo;        /* collector only: unlinked, waiting out two passes */
static unsigned recycle_pass;        /* collector only: passes so far */
static unsigned drains;              /* collector only: drained passes so far */
static atomic_uint retires;          /* records retired so far (wraps) */
static unsigned retires_walked;      /* collector only: `retires` at the last walk */
static size_t listed;                /* collector only: records the last walk left in all_locks */

/*
 * A recycled record, reset. `retired` stays set and `live_addr` 0 until the
 * new lock's fields are all in place: a thread whose cache still points here
 * takes the slow path meanwhile.
 */
static struct tl_lock *reuse_record(void)
{
    tl_spin_lock(&free_lock);
    struct tl_lock *l = free_records;
    if (l)
        free_records = l->next_all;
    tl_spin_unlock(&free_lock);
    if (l) {
        struct tl_lock fresh = {.retired = 1};
        memcpy(l, &fresh, sizeof *l);
    }
    return l;
}

static struct tl_lock *new_record(uintptr_t addr, enum tl_lock_kind kind, uint32_t thread_id,
                                  int capture_stack)
{
    struct tl_lock *l = reuse_record();
    if (!l)
        l = tl_arena_alloc_line(sizeof *l);
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
    atomic_store_explicit(&l->retired, 0, memory_order_release);
    atomic_store_explicit(&l->live_addr, addr, memory_order_release);
    return l;
}

struct tl_lock *tl_lockmap_get(uintptr_t addr, enum tl_lock_kind kind, uint32_t thread_id,
                               int capture_stack)
{
    struct tl_lock *l = tl_lockmap_find(addr);
    if (__builtin_expect(l != NULL, 1))
        return l;
    /* Made outside map_lock: a record may capture its stack. */
    struct tl_lock *fresh = new_record(addr, kind, thread_id, capture_stack);
    if (!fresh)
        return NULL;
    tl_spin_lock(&map_lock);
    struct tl_addrmap_slot *s = tl_growmap_slot(&map, addr, 1);
    l = s ? atomic_load_explicit(&s->value, memory_order_relaxed) : NULL;
    if (s && !l)
        atomic_store_explicit(&s->value, fresh, memory_order_release);
    tl_spin_unlock(&map_lock);
    if (!s) {
        log_full_once();
        return NULL;
    }
    if (l)
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

static int recyclable(struct tl_lock *l)
{
    return atomic_load(&l->retired) && !atomic_load(&l->pinned) && !l->out &&
           !atomic_load(&l->pub.queued);
}

/*
 * After two passes a record can be reused. No application thread still
 * looks at it: a correct program destroys a lock only once no thread uses
 * it (not locking, holding or waiting for it), and a thread's lock cache
 * checks `live_addr` before it trusts an entry. (A program that destroys a
 * lock another thread is taking can at worst have that acquisition counted
 * on another lock's record; the arena is never unmapped.) A lock that was
 * ever waited for may also be named by a blocked-thread or deadlock finding
 * the collector made, which may wait in the publish backlog: such a record
 * waits for two drained passes too (everything published before is then
 * written).
 */
static int releasable(const struct tl_lock *l)
{
    if (recycle_pass - l->limbo_pass < 2)
        return 0;
    return !atomic_load_explicit(&l->contentions, memory_order_relaxed) ||
           drains - l->limbo_drains >= 2;
}

/* Limbo records that waited their passes go to the free list; pinned ones stay out for good. */
static void release_limbo(void)
{
    struct tl_lock **link = &limbo;
    while (*link) {
        struct tl_lock *l = *link;
        if (!releasable(l)) {
            link = &l->next_all;
            continue;
        }
        *link = l->next_all;
        if (atomic_load(&l->pinned) || l->out)
            continue; /* an edge reached it late, through a stale pointer: leave it be */
        tl_spin_lock(&free_lock);
        l->next_all = free_records;
        free_records = l;
        tl_spin_unlock(&free_lock);
    }
}

/*
 * The head of all_locks is never unlinked: threads push there with a CAS.
 * Everything behind it is changed by the collector alone.
 *
 * A walk costs the whole list. A drain pass walks only once the records
 * retired since the last walk reach an eighth of those listed: a program
 * with a million live locks and some churn would otherwise pay a million
 * steps twenty times a second; this way each retired record pays at most
 * eight, and a tick (`thorough`) still walks every time.
 */
void tl_lockmap_recycle(int drained, int thorough)
{
    recycle_pass++;
    drains += drained != 0;
    release_limbo();
    unsigned retired_now = atomic_load(&retires);
    if (!thorough && (size_t)(retired_now - retires_walked) * 8 < listed)
        return;
    retires_walked = retired_now;
    struct tl_lock *prev = atomic_load_explicit(&all_locks, memory_order_acquire);
    listed = 0;
    if (!prev)
        return;
    for (struct tl_lock *l = prev->next_all, *next; l; l = next) {
        next = l->next_all;
        if (!recyclable(l)) {
            prev = l;
            listed++;
            continue;
        }
        prev->next_all = next;
        l->limbo_pass = recycle_pass;
        l->limbo_drains = drains;
        l->next_all = limbo;
        limbo = l;
    }
}

void tl_lockmap_retire(uintptr_t addr)
{
    if (!tl_lockmap_find(addr))
        return; /* not known (as most locks at init): no lock taken */
    tl_spin_lock(&map_lock);
    struct tl_addrmap_slot *s = tl_growmap_slot(&map, addr, 0);
    struct tl_lock *l = s ? atomic_exchange_explicit(&s->value, NULL, memory_order_acq_rel) : NULL;
    tl_spin_unlock(&map_lock);
    if (!l)
        return;
    atomic_store(&l->live_addr, 0);
    atomic_store(&l->retired, 1);
    atomic_fetch_add_explicit(&retires, 1, memory_order_relaxed);
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
    tl_spin_reset(&map_lock);
    tl_growmap_clear(&map);
    atomic_store(&next_id, 1);
    atomic_store(&live_records, 0);
    atomic_store(&all_locks, NULL);
    tl_spin_reset(&free_lock);
    free_records = limbo = NULL; /* the parent's records: left as they are */
}
