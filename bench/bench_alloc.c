/*
 * bench_alloc.c - allocation microbenchmark: two threads each keep a window
 * of 256 live blocks and replace one per iteration with malloc or calloc of
 * 16 to 1040 bytes (a fixed pseudo-random sequence), freeing the block it
 * replaces. Prints wall-clock ns per iteration (each thread does N).
 *
 * usage: tl-bench-alloc [ITERATIONS]     (default 4000000)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BENCH_THREADS 2
#define WINDOW 256

static long n_iter;                  /* set by main before the threads start */
static pthread_barrier_t start_line; /* both threads start together */

static void *worker(void *arg)
{
    uint64_t x = 0x9E3779B97F4A7C15ull ^ (uintptr_t)arg;
    void *window[WINDOW] = {0};
    pthread_barrier_wait(&start_line);
    for (long i = 0; i < n_iter; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t size = 16 + (size_t)(x % 1025);
        int slot = (int)((x >> 20) % WINDOW);
        free(window[slot]);
        window[slot] = (x >> 40) & 1 ? calloc(1, size) : malloc(size);
        if (!window[slot])
            abort();
        *(volatile char *)window[slot] = 1;
    }
    for (int i = 0; i < WINDOW; i++)
        free(window[i]);
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
    n_iter = argc > 1 ? strtol(argv[1], NULL, 10) : 4000000;
    if (n_iter <= 0) {
        fprintf(stderr, "usage: tl-bench-alloc [ITERATIONS]\n");
        return 2;
    }
    pthread_t threads[BENCH_THREADS];
    pthread_barrier_init(&start_line, NULL, BENCH_THREADS + 1);
    for (int i = 0; i < BENCH_THREADS; i++)
        pthread_create(&threads[i], NULL, worker, (void *)(uintptr_t)(i + 1));
    pthread_barrier_wait(&start_line);
    double t0 = now_ns();
    for (int i = 0; i < BENCH_THREADS; i++)
        pthread_join(threads[i], NULL);
    double t1 = now_ns();
    printf("bench_alloc: %d threads x %ld iterations: %.1f ns/iter\n", BENCH_THREADS, n_iter,
           (t1 - t0) / (double)n_iter);
    return 0;
}
