/*
 * static_threads.c - a statically linked threaded program for tests/real:
 * nothing can be preloaded into it, so `threadlens run` must say so and run
 * it anyway with its output and exit status unchanged (3, on purpose).
 */
#include <pthread.h>
#include <stdio.h>

#define THREADS 4

static pthread_mutex_t sum_lock = PTHREAD_MUTEX_INITIALIZER; /* guards sum */
static long sum;

static void *add(void *arg)
{
    long n = (long)arg;

    for (long i = 1; i <= 100000; i++) {
        pthread_mutex_lock(&sum_lock);
        sum += i % (n + 2);
        pthread_mutex_unlock(&sum_lock);
    }
    return NULL;
}

int main(void)
{
    pthread_t threads[THREADS];

    for (long i = 0; i < THREADS; i++)
        pthread_create(&threads[i], NULL, add, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    printf("sum %ld\n", sum);
    return 3;
}
