/*
 * spawner.c - a program for the dashboard's follow test: starts one thread
 * every 300 ms for about 4 s, each thread waiting until main says stop, so
 * the live thread count rises while threadlens-top watches. Then it joins
 * them all and exits 0.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#define N_THREADS 13
#define EVERY_MS 300

static atomic_int stop; /* set by main, read by every thread */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void *idle(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop))
        sleep_ms(20);
    return NULL;
}

int main(void)
{
    pthread_t t[N_THREADS];

    for (int i = 0; i < N_THREADS; i++) {
        if (pthread_create(&t[i], NULL, idle, NULL) != 0) {
            perror("pthread_create");
            return 1;
        }
        sleep_ms(EVERY_MS);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < N_THREADS; i++)
        pthread_join(t[i], NULL);
    return 0;
}
