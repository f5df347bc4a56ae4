/*
 * churn_locks_threads.c - a long-lived server's churn: threads come and go in
 * waves and each one makes short-lived objects with a mutex of their own
 * (malloc, pthread_mutex_init, lock, unlock, destroy, free). Nothing is ever
 * taken while another lock is held, and every thread is joined.
 *
 * Defaults: 1000 waves of 100 threads, each thread making 10 locks:
 * 100,000 threads and 1,000,000 locks over the run. With a fourth argument
 * `memory` it prints its peak and current resident memory at the end (VmHWM,
 * VmRSS from /proc/self/status), so tests/agent/bounded_memory.sh can compare
 * a bare run with one under the agent.
 *
 * usage: tl-prog-churn_locks_threads [WAVES [THREADS_PER_WAVE [LOCKS_PER_THREAD [memory]]]]
 * Expected: no finding.
 */
#include "prog_util.h"

static long locks_per_thread = 10;

NOINLINE static void use_object_lock(void)
{
    pthread_mutex_t *m = malloc(sizeof *m);
    REQUIRE(m != NULL);
    CHECK(pthread_mutex_init(m, NULL));
    CHECK(pthread_mutex_lock(m));
    CHECK(pthread_mutex_unlock(m));
    CHECK(pthread_mutex_destroy(m));
    free(m);
}

NOINLINE static void *churn_worker(void *arg)
{
    (void)arg;
    for (long i = 0; i < locks_per_thread; i++)
        use_object_lock();
    return NULL;
}

/* Prints the VmHWM and VmRSS lines of /proc/self/status. */
static void print_memory(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    REQUIRE(f != NULL);
    char line[256];
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0 || strncmp(line, "VmRSS:", 6) == 0)
            fputs(line, stdout);
    fclose(f);
}

static long arg_or(int argc, char **argv, int i, long fallback)
{
    if (argc <= i)
        return fallback;
    long v = strtol(argv[i], NULL, 10);
    REQUIRE(v > 0);
    return v;
}

int main(int argc, char **argv)
{
    long waves = arg_or(argc, argv, 1, 1000);
    long per_wave = arg_or(argc, argv, 2, 100);
    locks_per_thread = arg_or(argc, argv, 3, 10);
    pthread_t *threads = calloc((size_t)per_wave, sizeof *threads);
    REQUIRE(threads != NULL);
    pthread_attr_t attr;
    CHECK(pthread_attr_init(&attr));
    CHECK(pthread_attr_setstacksize(&attr, 64 * 1024));
    for (long w = 0; w < waves; w++) {
        for (long i = 0; i < per_wave; i++)
            CHECK(pthread_create(&threads[i], &attr, churn_worker, NULL));
        for (long i = 0; i < per_wave; i++)
            CHECK(pthread_join(threads[i], NULL));
    }
    CHECK(pthread_attr_destroy(&attr));
    free(threads);
    printf("churn: %ld threads, %ld locks\n", waves * per_wave,
           waves * per_wave * locks_per_thread);
    if (argc > 4 && strcmp(argv[4], "memory") == 0)
        print_memory();
    return 0;
}
