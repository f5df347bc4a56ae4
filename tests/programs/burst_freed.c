/*
 * burst_freed.c - a burst, not a trend: burst_alloc takes 64 MiB in blocks
 * of 64 KiB over about 1 s, burst_free gives it all back, then the program
 * idles IDLE_MS. The heap rose and fell once; nothing keeps growing.
 * Expected: no finding at all.
 */
#include "prog_util.h"

#include <time.h>

#define BLOCK_SIZE (64 * 1024)
#define N_BLOCKS 1024               /* 64 MiB */
#define BLOCKS_PER_STEP 16          /* one step per 15 ms: 64 steps, about 1 s */
#define STEP_MS 15
#define IDLE_MS 3000

void *blocks[N_BLOCKS]; /* main only */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        REQUIRE(errno == EINTR);
}

NOINLINE void burst_alloc(void)
{
    for (int i = 0; i < N_BLOCKS; i++) {
        blocks[i] = malloc(BLOCK_SIZE);
        REQUIRE(blocks[i] != NULL);
        memset(blocks[i], i & 0xff, BLOCK_SIZE);
        if ((i + 1) % BLOCKS_PER_STEP == 0)
            sleep_ms(STEP_MS);
    }
}

NOINLINE long burst_free(void)
{
    long sum = 0;
    for (int i = 0; i < N_BLOCKS; i++) {
        sum += ((unsigned char *)blocks[i])[BLOCK_SIZE - 1];
        free(blocks[i]);
        blocks[i] = NULL;
    }
    return sum;
}

int main(void)
{
    burst_alloc();
    long sum = burst_free();
    sleep_ms(IDLE_MS);
    printf("burst_freed: blocks=%d sum=%ld\n", N_BLOCKS, sum);
    return 0;
}
