/* spin.c - tl_spin's contended half: a short spin, then a futex (see spin.h). */
#include "spin.h"

#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SPINS 100 /* pauses: a few microseconds, longer than a holder usually stays */

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

void tl_spin_lock_contended(struct tl_spin *s)
{
    for (int i = 0; i < SPINS; i++) {
        cpu_relax();
        int free = 0;
        if (atomic_load_explicit(&s->locked, memory_order_relaxed) == 0 &&
            atomic_compare_exchange_weak_explicit(&s->locked, &free, 1, memory_order_acquire,
                                                  memory_order_relaxed))
            return;
    }
    /* Taken as 2 from here: this thread cannot tell whether another sleeps too. */
    int saved_errno = errno; /* the program's: EAGAIN and EINTR are ours */
    while (atomic_exchange_explicit(&s->locked, 2, memory_order_acquire) != 0)
        syscall(SYS_futex, &s->locked, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
    errno = saved_errno;
}

void tl_spin_wake(struct tl_spin *s)
{
    int saved_errno = errno;
    syscall(SYS_futex, &s->locked, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    errno = saved_errno;
}
