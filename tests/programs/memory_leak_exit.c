/*
 * memory_leak_exit.c - blocks still allocated at exit, lost and kept:
 *
 *   lose_buffers  allocates N_BUFFERS of 100 KiB and loses every pointer
 *                 (each one lives only in a volatile local, overwritten by
 *                 the next and finally by NULL): a leak
 *   keep_buffers  allocates N_BUFFERS of 100 KiB kept in a global array: not
 *                 freed either, but reachable, so not a leak
 *
 * scrub_stack then overwrites the dead stack below main's frame, where a
 * stale copy of a lost pointer could linger. Run in exact mode
 * (sample_bytes=1). Expected: one memory-leak warning, for lose_buffers.
 */
#include "prog_util.h"

#define N_BUFFERS 10
#define BUFFER_SIZE (100 * 1024)

void *kept[N_BUFFERS];

NOINLINE void lose_buffers(void)
{
    void *volatile p = NULL;
    for (int i = 0; i < N_BUFFERS; i++) {
        p = malloc(BUFFER_SIZE);
        REQUIRE(p != NULL);
        memset(p, i, BUFFER_SIZE);
    }
    p = NULL;
}

NOINLINE void keep_buffers(void)
{
    for (int i = 0; i < N_BUFFERS; i++) {
        kept[i] = malloc(BUFFER_SIZE);
        REQUIRE(kept[i] != NULL);
        memset(kept[i], i, BUFFER_SIZE);
    }
}

/* Wipes the stack below the caller's frame (the frames lose_buffers and malloc left behind). */
NOINLINE void scrub_stack(void)
{
    volatile char wipe[64 * 1024];
    for (size_t i = 0; i < sizeof wipe; i++)
        wipe[i] = 0;
}

int main(void)
{
    lose_buffers();
    keep_buffers();
    scrub_stack();
    printf("memory_leak_exit: lost=%d kept=%d\n", N_BUFFERS, N_BUFFERS);
    return 0;
}
