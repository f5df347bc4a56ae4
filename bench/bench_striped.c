/*
 * bench_striped.c - lock-striping microbenchmark: the pattern of a hash table
 * guarded by an array of mutexes (memcached's item locks, many caches and
 * databases). Two threads each pick a random stripe per iteration out of
 * 2048 of their own (as memcached's connections hash their own keys), lock
 * it, and under it take two of five locks of their own (as memcached takes
 * its LRU, slab and statistics locks under an item lock). Thousands of locks,
 * each with five successors in the lock-order graph, the shape a memcached
 * run showed: far more than any per-thread cache of locks or edges holds.
 * Prints wall-clock ns per iteration (each thread does N iterations).
 *
 * usage: tl-bench-striped [ITERATIONS]     (default 2000000)
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define TL_BENCH_THREADS 2
#define TL_BENCH_STRIPES 2048 /* per thread */
#define TL_BENCH_INNER 5

/* A thread's locks; its inner ones on lines of their own (see bench_lock.c). */
struct tl_bench_locks {
    _Alignas(64) pthread_mutex_t inner[TL_BENCH_INNER];
    pthread_mutex_t stripes[TL_BENCH_STRIPES];
};

static pthread_barrier_t start_line; /* all threads start together */
static long n_iter;                  /* set by main before threads */

static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

static void *worker(void *arg)
{
    struct tl_bench_locks *locks = arg;
    uint64_t rng = 0x9E3779B97F4A7C15ull ^ (uintptr_t)arg;
    pthread_barrier_wait(&start_line);
    for (long i = 0; i < n_iter; i++) {
        pthread_mutex_t *stripe = &locks->stripes[next_random(&rng) % TL_BENCH_STRIPES];
        pthread_mutex_t *first = &locks->inner[i % TL_BENCH_INNER];
        pthread_mutex_t *second = &locks->inner[(i + 2) % TL_BENCH_INNER];
        pthread_mutex_lock(stripe);
        pthread_mutex_lock(first);
        pthread_mutex_unlock(first);
        pthread_mutex_lock(second);
        pthread_mutex_unlock(second);
        pthread_mutex_unlock(stripe);
    }
    return NULL;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int parse_iterations(int argc, char **argv)
{
    n_iter = 2000000;
    if (argc > 2) {
        fprintf(stderr, "usage: tl-bench-striped [ITERATIONS]\n");
        return -1;
    }
    if (argc == 2) {
        char *end = NULL;
        errno = 0;
        n_iter = strtol(argv[1], &end, 10);
        if (errno != 0 || end == argv[1] || *end != '\0' || n_iter <= 0) {
            fprintf(stderr, "tl-bench-striped: bad iteration count '%s'\n", argv[1]);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (parse_iterations(argc, argv) != 0)
        return 2;
    static struct tl_bench_locks locks[TL_BENCH_THREADS];
    pthread_t threads[TL_BENCH_THREADS];
    pthread_barrier_init(&start_line, NULL, TL_BENCH_THREADS + 1);
    for (int t = 0; t < TL_BENCH_THREADS; t++) {
        for (int i = 0; i < TL_BENCH_INNER; i++)
            pthread_mutex_init(&locks[t].inner[i], NULL);
        for (int i = 0; i < TL_BENCH_STRIPES; i++)
            pthread_mutex_init(&locks[t].stripes[i], NULL);
        int rc = pthread_create(&threads[t], NULL, worker, &locks[t]);
        if (rc != 0) {
            fprintf(stderr, "tl-bench-striped: pthread_create failed (%d)\n", rc);
            return 1;
        }
    }
    pthread_barrier_wait(&start_line);
    double t0 = now_ns();
    for (int t = 0; t < TL_BENCH_THREADS; t++)
        pthread_join(threads[t], NULL);
    double elapsed = now_ns() - t0;
    pthread_barrier_destroy(&start_line);

    printf("bench_striped: %d threads x %ld iterations: %.1f ns/iter\n", TL_BENCH_THREADS, n_iter,
           elapsed / (double)n_iter);
    return 0;
}
