/*
 * alloc_totals.c - a known amount of allocation, to check the agent's heap
 * counters and its sampled per-site estimate (tests/integration/
 * check_totals.py) as well as its silence (alloc_totals.expect: no finding).
 *
 * N_THREADS threads each run alloc_blocks: N_BLOCKS blocks of 8 to 64 KiB
 * (block i is 8 KiB * (1 + i % 8)), then free the even ones. The odd ones
 * stay allocated until exit, reachable from the global array `kept`, so the
 * last sample still counts them live and nothing is a leak. The program
 * prints what it did: blocks allocated and freed, and the bytes still live
 * from alloc_blocks.
 */
#include "prog_util.h"

#define N_THREADS 4
#define N_BLOCKS 2048
#define UNIT (8 * 1024)

void *kept[N_THREADS][N_BLOCKS]; /* row t: thread t's blocks; odd ones stay live */

static size_t block_size(int i)
{
    return UNIT * (size_t)(1 + i % 8);
}

/* Allocates thread `row`'s blocks and frees the even ones. Returns the bytes kept. */
NOINLINE long alloc_blocks(int row)
{
    long live = 0;
    for (int i = 0; i < N_BLOCKS; i++) {
        char *p = malloc(block_size(i));
        REQUIRE(p != NULL);
        p[0] = (char)i;
        kept[row][i] = p;
    }
    for (int i = 0; i < N_BLOCKS; i++) {
        if (i % 2 == 0) {
            free(kept[row][i]);
            kept[row][i] = NULL;
        } else {
            live += (long)block_size(i);
        }
    }
    return live;
}

struct worker {
    int row;   /* which row of `kept` */
    long live; /* out: bytes it kept */
};

NOINLINE void *alloc_thread(void *arg)
{
    struct worker *w = arg;
    w->live = alloc_blocks(w->row);
    return NULL;
}

int main(void)
{
    pthread_t threads[N_THREADS];
    struct worker workers[N_THREADS];
    long live_bytes = 0;

    for (int t = 0; t < N_THREADS; t++) {
        workers[t] = (struct worker){.row = t};
        CHECK(pthread_create(&threads[t], NULL, alloc_thread, &workers[t]));
    }
    for (int t = 0; t < N_THREADS; t++) {
        CHECK(pthread_join(threads[t], NULL));
        live_bytes += workers[t].live;
    }
    printf("alloc_totals: allocated=%d freed=%d live_bytes=%ld\n", N_THREADS * N_BLOCKS,
           N_THREADS * N_BLOCKS / 2, live_bytes);
    return 0;
}
