/* detect_misuse.c - lock-misuse detector (see detect_misuse.h). */
#include "detect_misuse.h"

#include <errno.h>
#include <string.h>

#include "spin.h"

#define SEEN_SIZE 1024 /* power of two */

static struct tl_spin seen_lock = TL_SPIN_INIT;
static uint64_t seen[SEEN_SIZE]; /* signatures of reported misuses, under seen_lock */

/* Returns 1 the first time (what, addr, pc) is seen. */
static int first_time(enum tl_misuse what, uintptr_t addr, uintptr_t pc)
{
    uint64_t sig = ((uint64_t)addr * 0x9E3779B97F4A7C15ull) ^ (pc * 0xC2B2AE3D27D4EB4Full) ^
                   (uint64_t)what;
    sig |= 1;
    int fresh = 0;
    tl_spin_lock(&seen_lock);
    for (unsigned i = 0, k = (unsigned)sig; i < SEEN_SIZE; i++, k++) {
        uint64_t *slot = &seen[k & (SEEN_SIZE - 1)];
        if (*slot == sig)
            break;
        if (*slot == 0) {
            *slot = sig;
            fresh = 1;
            break;
        }
    }
    tl_spin_unlock(&seen_lock);
    return fresh;
}

static unsigned add_item(struct tl_finding *f, unsigned i, struct tl_finding_item item)
{
    if (i < f->nitems)
        f->items[i++] = item;
    return i;
}

void tl_misuse_report(struct tl_thread *self, enum tl_misuse what, uintptr_t addr, int kind,
                      struct tl_caller caller, const struct tl_held *held)
{
    uintptr_t site_pc = held && what == TL_MISUSE_EXIT_HOLDING ? held->caller.pc : caller.pc;
    if (!first_time(what, addr, site_pc))
        return;
    int saved_errno = errno;
    self->in_agent++;
    struct tl_lock *lock = held ? held->lock : tl_lockmap_get(addr, kind, self->id, 0);
    struct tl_finding *f = tl_finding_new(TL_FINDING_LOCK_MISUSE, TL_SEVERITY_ERROR, self->id, 4);
    if (!f)
        goto out;
    f->misuse = (uint8_t)what;
    unsigned n = 0;
    n = add_item(f, n, (struct tl_finding_item){.role = TL_ROLE_THREAD, .thread = self->id});
    if (lock)
        n = add_item(f, n, (struct tl_finding_item){.role = TL_ROLE_LOCK, .lock = lock});
    struct tl_frame frames[TL_STACK_MAX];
    int nframes = tl_stack_unwind(frames, TL_STACK_MAX);
    if (what == TL_MISUSE_EXIT_HOLDING) {
        /* The acquiring frame is gone; its pc is what is left of where it happened. */
        n = add_item(f, n, (struct tl_finding_item){
                               .role = TL_ROLE_STACK, .thread = self->id, .lock = lock,
                               .stack = tl_stack_intern(&held->caller.pc, 1),
                               .detail = "acquired"});
        n = add_item(f, n, (struct tl_finding_item){.role = TL_ROLE_STACK, .thread = self->id,
                                                    .stack = self->create_stack,
                                                    .detail = "created"});
    } else {
        n = add_item(f, n, (struct tl_finding_item){
                               .role = TL_ROLE_STACK, .thread = self->id, .lock = lock,
                               .stack = tl_stack_from_frames(frames, nframes, 0),
                               .detail = "site"});
        if (held)
            n = add_item(f, n, (struct tl_finding_item){
                                   .role = TL_ROLE_STACK, .thread = self->id, .lock = lock,
                                   .stack = tl_stack_of_held(frames, nframes, held->caller),
                                   .detail = "acquired"});
    }
    f->nitems = n;
    tl_publish(&f->pub);
out:
    self->in_agent--;
    errno = saved_errno;
}

void tl_misuse_after_fork_child(void)
{
    tl_spin_reset(&seen_lock);
}

void tl_misuse_fork_prepare(void)
{
    tl_spin_lock(&seen_lock);
}

void tl_misuse_fork_parent(void)
{
    tl_spin_unlock(&seen_lock);
}
