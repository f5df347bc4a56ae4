/*
 * limit_threads.c - twelve threads alive at once for half a second, then
 * joined. Run with max_threads=8 (see the .expect): the live thread count
 * crosses the limit once, and that is one limit-exceeded error.
 */
#include "prog_util.h"

#include <unistd.h>

#define THREADS 12

NOINLINE void *stay_a_while(void *arg)
{
    (void)arg;
    usleep(500 * 1000);
    return NULL;
}

int main(void)
{
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_create(&threads[i], NULL, stay_a_while, NULL));
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_join(threads[i], NULL));
    printf("limit_threads: %d threads joined\n", THREADS);
    return 0;
}
