/*
 * thread_pileup.c - threads pile up: spawn_readers creates one thread every
 * SPAWN_MS for about 4.5 s, and each blocks in read() on one pipe (a wait
 * the agent does not wrap). Then main writes one byte per thread, which
 * releases them all, and joins them. The live thread count grew as a
 * steady trend. Expected: one thread-growth warning.
 */
#include "prog_util.h"

#include <time.h>
#include <unistd.h>

#define N_READERS 30 /* 30 x 150 ms = 4.5 s */
#define SPAWN_MS 150

int pipe_fds[2];
pthread_t readers[N_READERS];

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        REQUIRE(errno == EINTR);
}

NOINLINE void *blocked_reader(void *arg)
{
    char byte;
    ssize_t n;

    (void)arg;
    do
        n = read(pipe_fds[0], &byte, 1);
    while (n < 0 && errno == EINTR);
    REQUIRE(n == 1);
    return NULL;
}

NOINLINE void spawn_readers(void)
{
    for (int i = 0; i < N_READERS; i++) {
        CHECK(pthread_create(&readers[i], NULL, blocked_reader, NULL));
        sleep_ms(SPAWN_MS);
    }
}

NOINLINE void release_readers(void)
{
    char bytes[N_READERS];

    memset(bytes, 'x', sizeof bytes);
    REQUIRE(write(pipe_fds[1], bytes, sizeof bytes) == (ssize_t)sizeof bytes);
    for (int i = 0; i < N_READERS; i++)
        CHECK(pthread_join(readers[i], NULL));
}

int main(void)
{
    REQUIRE(pipe(pipe_fds) == 0);
    spawn_readers();
    release_readers();
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    printf("thread_pileup: readers=%d\n", N_READERS);
    return 0;
}
