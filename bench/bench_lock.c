/*
 * bench_lock.c - lock microbenchmark: the cost of nested mutex lock/unlock,
 * the agent's hottest path. Two threads each take their own pair of mutexes
 * (p1 then p2) N times; every 64th iteration the pair is taken nested under
 * one shared mutex, so the lock graph has a gate lock and some contention.
 * Prints wall-clock ns per iteration (each thread does N iterations).
 *
 * usage: tl-bench-lock [ITERATIONS]     (default 2000000)
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define TL_BENCH_THREADS 2
#define TL_BENCH_SHARED_EVERY 64

/*
 * One thread's private pair, on a cache line of its own: two pairs sharing a
 * line would measure false sharing (and flip between fast and slow runs
 * depending on where the scheduler puts the threads), not lock cost.
 */
struct tl_bench_pair {
    _Alignas(64) pthread_mutex_t p1;
    pthread_mutex_t p2;
};

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER; /* taken every 64th iteration */
static pthread_barrier_t start_line;                           /* both threads start together */
static long n_iter;                                            /* set by main before threads */

static void *worker(void *pArg)
{
    struct tl_bench_pair *pPair = pArg;
    pthread_barrier_wait(&start_line);
    for (long i = 0; i < n_iter; i++) {
        int gated = (i % TL_BENCH_SHARED_EVERY) == 0;
        if (gated) {
            pthread_mutex_lock(&shared_lock);
        }
        pthread_mutex_lock(&pPair->p1);
        pthread_mutex_lock(&pPair->p2);
        pthread_mutex_unlock(&pPair->p2);
        pthread_mutex_unlock(&pPair->p1);
        if (gated) {
            pthread_mutex_unlock(&shared_lock);
        }
    }
    return NULL;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    n_iter = 2000000;
    if (argc > 2) {
        fprintf(stderr, "usage: tl-bench-lock [ITERATIONS]\n");
        return 2;
    }
    if (argc == 2) {
        char *zEnd = NULL;
        errno = 0;
        n_iter = strtol(argv[1], &zEnd, 10);
        if (errno != 0 || zEnd == argv[1] || *zEnd != '\0' || n_iter <= 0) {
            fprintf(stderr, "tl-bench-lock: bad iteration count '%s'\n", argv[1]);
            return 2;
        }
    }

    struct tl_bench_pair aPair[TL_BENCH_THREADS];
    pthread_t aThread[TL_BENCH_THREADS];
    pthread_barrier_init(&start_line, NULL, TL_BENCH_THREADS + 1);
    for (int i = 0; i < TL_BENCH_THREADS; i++) {
        pthread_mutex_init(&aPair[i].p1, NULL);
        pthread_mutex_init(&aPair[i].p2, NULL);
        int rc = pthread_create(&aThread[i], NULL, worker, &aPair[i]);
        if (rc != 0) {
            fprintf(stderr, "tl-bench-lock: pthread_create failed (%d)\n", rc);
            return 1;
        }
    }
    pthread_barrier_wait(&start_line);
    double t0 = now_ns();
    for (int i = 0; i < TL_BENCH_THREADS; i++) {
        pthread_join(aThread[i], NULL);
    }
    double elapsed = now_ns() - t0;
    for (int i = 0; i < TL_BENCH_THREADS; i++) {
        pthread_mutex_destroy(&aPair[i].p1);
        pthread_mutex_destroy(&aPair[i].p2);
    }
    pthread_barrier_destroy(&start_line);

    printf("bench_lock: %d threads x %ld iterations: %.1f ns/iter\n", TL_BENCH_THREADS, n_iter,
           elapsed / (double)n_iter);
    return 0;
}
