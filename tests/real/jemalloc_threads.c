/*
 * jemalloc_threads.c - a program with its own allocator for tests/real: linked
 * with -ljemalloc, so malloc and free resolve to jemalloc's. Eight threads
 * allocate, fill, check and free blocks of many sizes and pass some of them to
 * each other through a mutex-protected exchange slot. Correct: no finding of
 * severity error. Prints a checksum that does not depend on scheduling.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 8
#define ROUNDS 20000

static pthread_mutex_t exchange_lock = PTHREAD_MUTEX_INITIALIZER; /* guards exchange */
static unsigned char *exchange;                                   /* a block in transit */
static size_t exchange_size;

/* Frees the block in transit after checking its fill, and leaves ours. */
static int swap_block(unsigned char *mine, size_t size)
{
    unsigned char *old;
    size_t old_size;
    int bad = 0;

    pthread_mutex_lock(&exchange_lock);
    old = exchange;
    old_size = exchange_size;
    exchange = mine;
    exchange_size = size;
    pthread_mutex_unlock(&exchange_lock);
    for (size_t i = 0; old && i < old_size; i++)
        bad |= old[i] != (unsigned char)old_size;
    free(old);
    return bad;
}

static void *worker(void *arg)
{
    uintptr_t id = (uintptr_t)arg, bad = 0;
    uint32_t seed = (uint32_t)id * 2654435761u + 1;

    for (int r = 0; r < ROUNDS; r++) {
        seed = seed * 1103515245u + 12345u;
        size_t size = 1 + (seed >> 8) % (r % 64 == 0 ? 200000 : 512);
        unsigned char *p = malloc(size);
        if (!p)
            return (void *)1;
        memset(p, (unsigned char)size, size);
        if (r % 3 == 0) {
            bad |= (uintptr_t)swap_block(p, size);
        } else {
            p = realloc(p, size * 2);
            bad |= p[size - 1] != (unsigned char)size;
            free(p);
        }
    }
    return (void *)bad;
}

int main(void)
{
    pthread_t threads[THREADS];
    uintptr_t bad = 0;

    for (uintptr_t i = 0; i < THREADS; i++)
        if (pthread_create(&threads[i], NULL, worker, (void *)i) != 0)
            return 2;
    for (int i = 0; i < THREADS; i++) {
        void *ret;
        pthread_join(threads[i], &ret);
        bad |= (uintptr_t)ret;
    }
    bad |= (uintptr_t)swap_block(NULL, 0);
    printf("%d threads x %d rounds: %s\n", THREADS, ROUNDS, bad ? "CORRUPT" : "ok");
    return bad ? 1 : 0;
}
