/* signals.c - flush the database before a termination signal kills the process. */
#include "signals.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "collector.h"

#define FLUSH_WAIT_STEPS 500 /* x 10 ms */

static const int term_signals[] = {SIGTERM, SIGINT, SIGHUP};
static atomic_int flushed;

void tl_signals_flushed(void)
{
    atomic_store(&flushed, 1);
}

/* Async-signal-safe: an eventfd write, nanosleep, sigaction, sigprocmask, raise. */
static void on_term(int sig)
{
    tl_collector_on_signal(sig);
    for (int i = 0; i < FLUSH_WAIT_STEPS && !atomic_load(&flushed); i++)
        nanosleep(&(struct timespec){0, 10 * 1000000}, NULL);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(sig, &dfl, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
}

void tl_signals_init(void)
{
    for (size_t i = 0; i < sizeof term_signals / sizeof term_signals[0]; i++) {
        struct sigaction old, sa;
        if (sigaction(term_signals[i], NULL, &old) != 0 || old.sa_handler != SIG_DFL ||
            (old.sa_flags & SA_SIGINFO))
            continue; /* ignored or handled by the program: not ours to touch */
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_term;
        sigfillset(&sa.sa_mask);
        sigaction(term_signals[i], &sa, NULL);
    }
}
