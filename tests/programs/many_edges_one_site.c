/*
 * many_edges_one_site.c - one thread learns many lock-order edges from one
 * call site, enough that the agent keeps its unwinds of that site for reuse
 * (agent/stack_cache.h); then one more edge from the same site at the same
 * depth, under another caller (the_last_pair, a twin of the_first_pairs
 * with the same frame), and that last pair is taken the other way round:
 * one lock-order-inversion warning, whose stacks must name the_last_pair,
 * not the caller the kept unwind was made under.
 */
#include "prog_util.h"

#define FIRSTS 20 /* more new edges than the agent unwinds before it keeps them */

pthread_mutex_t firsts[FIRSTS];
pthread_mutex_t second = PTHREAD_MUTEX_INITIALIZER;
int shared_value; /* protected by each pair */

NOINLINE void take_pair(pthread_mutex_t *first)
{
    CHECK(pthread_mutex_lock(first));
    CHECK(pthread_mutex_lock(&second));
    shared_value += 1;
    CHECK(pthread_mutex_unlock(&second));
    CHECK(pthread_mutex_unlock(first));
}

/* noipa: no copy specialised for each caller's constants, which would change the frames. */
__attribute__((noipa)) void take_pairs(int from, int to)
{
    for (int i = from; i < to; i++)
        take_pair(&firsts[i]);
}

__attribute__((noipa)) void the_first_pairs(void)
{
    take_pairs(0, FIRSTS - 1);
}

__attribute__((noipa)) void the_last_pair(void)
{
    take_pairs(FIRSTS - 1, FIRSTS);
}

NOINLINE void take_last_reversed(void)
{
    CHECK(pthread_mutex_lock(&second));
    CHECK(pthread_mutex_lock(&firsts[FIRSTS - 1]));
    shared_value += 2;
    CHECK(pthread_mutex_unlock(&firsts[FIRSTS - 1]));
    CHECK(pthread_mutex_unlock(&second));
}

int main(void)
{
    for (int i = 0; i < FIRSTS; i++)
        CHECK(pthread_mutex_init(&firsts[i], NULL));
    the_first_pairs();
    the_last_pair();
    take_last_reversed();
    printf("many_edges_one_site: value=%d\n", shared_value);
    return 0;
}
