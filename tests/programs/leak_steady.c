/*
 * leak_steady.c - one allocation site grows steadily while two others churn
 * (memory-growth must tell them apart). For N_TICKS ticks of TICK_MS:
 *
 *   leak_one     every LEAK_EVERY ticks (50 ms), 64 KiB kept in a global
 *                array: a steady growth; still reachable, so no leak at exit
 *   churn_small  CHURN_PER_TICK mallocs of 1 KiB, each freed at once: flat
 *   churn_cache  a cache of 16 KiB entries that fills to 4 MiB and is then
 *                trimmed back to empty: a saw-tooth (about 0.6 s per tooth)
 *
 * About 6 s in all; everything is freed at the end. Expected: one
 * memory-growth warning, for leak_one.
 */
#include "prog_util.h"

#include <time.h>

#define TICK_MS 10
#define N_TICKS 600
#define LEAK_EVERY 5                /* ticks: one leak_one block per 50 ms */
#define LEAK_SIZE (64 * 1024)
#define CHURN_PER_TICK 10
#define CHURN_SIZE 1024
#define CACHE_ENTRY (16 * 1024)
#define CACHE_PER_TICK 4
#define CACHE_MAX (4 * 1024 * 1024 / CACHE_ENTRY)

void *leaked[N_TICKS / LEAK_EVERY]; /* main only */
int n_leaked;
void *cache[CACHE_MAX];             /* main only */
int cache_len;
int cache_trims;
long checksum;

NOINLINE void leak_one(void)
{
    char *p = malloc(LEAK_SIZE);
    REQUIRE(p != NULL);
    memset(p, n_leaked & 0xff, LEAK_SIZE);
    leaked[n_leaked++] = p;
}

NOINLINE void churn_small(void)
{
    for (int i = 0; i < CHURN_PER_TICK; i++) {
        volatile char *p = malloc(CHURN_SIZE);
        REQUIRE(p != NULL);
        p[0] = (char)i;
        checksum += p[0];
        free((void *)p);
    }
}

NOINLINE void churn_cache(void)
{
    if (cache_len + CACHE_PER_TICK > CACHE_MAX) {
        while (cache_len > 0)
            free(cache[--cache_len]);
        cache_trims++;
    }
    for (int i = 0; i < CACHE_PER_TICK; i++) {
        char *p = malloc(CACHE_ENTRY);
        REQUIRE(p != NULL);
        memset(p, i, CACHE_ENTRY);
        cache[cache_len++] = p;
    }
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        REQUIRE(errno == EINTR);
}

int main(void)
{
    for (int tick = 0; tick < N_TICKS; tick++) {
        if (tick % LEAK_EVERY == 0)
            leak_one();
        churn_small();
        churn_cache();
        sleep_ms(TICK_MS);
    }
    printf("leak_steady: leaked=%d trims=%d checksum=%ld\n", n_leaked, cache_trims, checksum);
    for (int i = 0; i < n_leaked; i++)
        free(leaked[i]);
    while (cache_len > 0)
        free(cache[--cache_len]);
    return 0;
}
