/*
 * scale_threads_locks.c - many of everything at once: 10,000 threads alive
 * together, all blocked on one condition variable until main releases them
 * (after HOLD_MS, long enough for the collector to tick with all of them
 * alive), and 1,000,000 distinct mutexes alive together, each locked and
 * unlocked once by main. Each thread takes the shared counter lock once.
 * Every thread is joined; nothing is nested, so nothing can be reported.
 *
 * usage: tl-prog-scale_threads_locks [THREADS [LOCKS [HOLD_MS]]]
 * Expected: no finding.
 */
#include "prog_util.h"

#include <time.h>

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_open = PTHREAD_COND_INITIALIZER;
static int open_now;  /* under gate_lock */
static long arrived;  /* under gate_lock: threads waiting at the gate */

NOINLINE static void *wait_at_gate(void *arg)
{
    (void)arg;
    CHECK(pthread_mutex_lock(&gate_lock));
    arrived++;
    while (!open_now)
        CHECK(pthread_cond_wait(&gate_open, &gate_lock));
    CHECK(pthread_mutex_unlock(&gate_lock));
    return NULL;
}

NOINLINE static void use_many_locks(long n)
{
    pthread_mutex_t *locks = malloc((size_t)n * sizeof *locks);
    REQUIRE(locks != NULL);
    for (long i = 0; i < n; i++)
        CHECK(pthread_mutex_init(&locks[i], NULL));
    for (long i = 0; i < n; i++) {
        CHECK(pthread_mutex_lock(&locks[i]));
        CHECK(pthread_mutex_unlock(&locks[i]));
    }
    for (long i = 0; i < n; i++)
        CHECK(pthread_mutex_destroy(&locks[i]));
    free(locks);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static long arg_or(int argc, char **argv, int i, long fallback)
{
    if (argc <= i)
        return fallback;
    long v = strtol(argv[i], NULL, 10);
    REQUIRE(v >= 0);
    return v;
}

int main(int argc, char **argv)
{
    long nthreads = arg_or(argc, argv, 1, 10000);
    long nlocks = arg_or(argc, argv, 2, 1000000);
    long hold_ms = arg_or(argc, argv, 3, 3000);
    pthread_t *threads = calloc((size_t)nthreads, sizeof *threads);
    REQUIRE(threads != NULL);
    pthread_attr_t attr;
    CHECK(pthread_attr_init(&attr));
    CHECK(pthread_attr_setstacksize(&attr, 64 * 1024));
    for (long i = 0; i < nthreads; i++)
        CHECK(pthread_create(&threads[i], &attr, wait_at_gate, NULL));
    CHECK(pthread_attr_destroy(&attr));
    for (;;) {
        CHECK(pthread_mutex_lock(&gate_lock));
        long n = arrived;
        CHECK(pthread_mutex_unlock(&gate_lock));
        if (n == nthreads)
            break;
        sleep_ms(10);
    }
    use_many_locks(nlocks);
    sleep_ms(hold_ms);
    CHECK(pthread_mutex_lock(&gate_lock));
    open_now = 1;
    CHECK(pthread_cond_broadcast(&gate_open));
    CHECK(pthread_mutex_unlock(&gate_lock));
    for (long i = 0; i < nthreads; i++)
        CHECK(pthread_join(threads[i], NULL));
    free(threads);
    printf("scale: %ld threads alive at once, %ld locks\n", nthreads, nlocks);
    return 0;
}
