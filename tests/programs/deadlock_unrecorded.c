/*
 * deadlock_unrecorded.c - a deadlock in which one thread blocks without any
 * record of its wait: it calls libc's pthread_mutex_lock directly (through a
 * dlopen handle of libc, past any interposer), as a thread that lost the race
 * between the agent's uncontended check and the real call would. The
 * wait-for graph must still close the cycle by asking the kernel which futex
 * the lock owner sleeps on. Hangs; expected: one deadlock error.
 */
#include "prog_util.h"

#include <dlfcn.h>
#include <unistd.h>

pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both_hold;
static int (*libc_lock)(pthread_mutex_t *); /* libc's own, not interposed */

NOINLINE void *tracked_a_want_b(void *arg)
{
    (void)arg;
    CHECK(pthread_mutex_lock(&lock_a));
    barrier_wait(&both_hold);
    CHECK(pthread_mutex_lock(&lock_b)); /* blocks for ever, recorded */
    return NULL;
}

NOINLINE void *hidden_b_want_a(void *arg)
{
    (void)arg;
    CHECK(libc_lock(&lock_b));
    barrier_wait(&both_hold);
    usleep(100 * 1000); /* let the other side block first */
    CHECK(libc_lock(&lock_a)); /* blocks for ever, unrecorded */
    return NULL;
}

int main(void)
{
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    REQUIRE(libc != NULL);
    *(void **)&libc_lock = dlsym(libc, "pthread_mutex_lock");
    REQUIRE(libc_lock != NULL);
    CHECK(pthread_barrier_init(&both_hold, NULL, 2));
    pthread_t a, b;
    CHECK(pthread_create(&a, NULL, tracked_a_want_b, NULL));
    CHECK(pthread_create(&b, NULL, hidden_b_want_a, NULL));
    printf("deadlock_unrecorded: started\n");
    fflush(stdout);
    CHECK(pthread_join(a, NULL));
    CHECK(pthread_join(b, NULL));
    return 0;
}
