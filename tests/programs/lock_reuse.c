/*
 * lock_reuse.c - a destroyed lock is gone: a new lock at the same address is
 * a new lock, and its order says nothing about the old one's.
 *
 * Heap: two accounts are malloc'd and their mutexes initialised, taken x then
 * y (heap_forward), destroyed and freed. Two accounts are malloc'd again; the
 * program checks that the same two addresses came back (glibc's per-thread
 * cache hands back the last freed chunks of that size), initialises the
 * mutexes again and takes them in the other order (heap_reverse).
 *
 * Static: static_x and static_y are taken x then y (static_forward),
 * destroyed, re-initialised in place with pthread_mutex_init and taken y then
 * x (static_reverse).
 *
 * Expected: no finding.
 */
#include "prog_util.h"

#include <stdint.h>

struct account {
    pthread_mutex_t lock; /* protects balance */
    long balance;
};

struct pair {
    pthread_mutex_t *first; /* taken first */
    pthread_mutex_t *second;
};

pthread_mutex_t static_x = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t static_y = PTHREAD_MUTEX_INITIALIZER;
int rounds; /* protected by whichever pair the current thread holds */

static void take_pair(const struct pair *p)
{
    CHECK(pthread_mutex_lock(p->first));
    CHECK(pthread_mutex_lock(p->second));
    rounds++;
    CHECK(pthread_mutex_unlock(p->second));
    CHECK(pthread_mutex_unlock(p->first));
}

NOINLINE void *heap_forward(void *arg)
{
    take_pair(arg);
    return NULL;
}

NOINLINE void *heap_reverse(void *arg)
{
    take_pair(arg);
    return NULL;
}

NOINLINE void *static_forward(void *arg)
{
    take_pair(arg);
    return NULL;
}

NOINLINE void *static_reverse(void *arg)
{
    take_pair(arg);
    return NULL;
}

static struct account *account_new(void)
{
    struct account *acct = malloc(sizeof(*acct));
    REQUIRE(acct != NULL);
    CHECK(pthread_mutex_init(&acct->lock, NULL));
    acct->balance = 0;
    return acct;
}

static void account_free(struct account *acct)
{
    CHECK(pthread_mutex_destroy(&acct->lock));
    free(acct);
}

static void heap_reuse(void)
{
    struct account *x = account_new();
    struct account *y = account_new();
    uintptr_t addr_x = (uintptr_t)x;
    uintptr_t addr_y = (uintptr_t)y;
    struct account *p;
    struct account *q;
    struct account *at_x;
    struct account *at_y;

    run_thread(heap_forward, &(struct pair){&x->lock, &y->lock});
    account_free(y);
    account_free(x);

    p = account_new();
    q = account_new();
    REQUIRE(((uintptr_t)p == addr_x && (uintptr_t)q == addr_y) ||
            ((uintptr_t)p == addr_y && (uintptr_t)q == addr_x));
    at_x = (uintptr_t)p == addr_x ? p : q;
    at_y = (uintptr_t)p == addr_y ? p : q;

    /* Same addresses, other order. */
    run_thread(heap_reverse, &(struct pair){&at_y->lock, &at_x->lock});
    account_free(q);
    account_free(p);
}

static void static_reinit(void)
{
    run_thread(static_forward, &(struct pair){&static_x, &static_y});
    CHECK(pthread_mutex_destroy(&static_x));
    CHECK(pthread_mutex_destroy(&static_y));
    CHECK(pthread_mutex_init(&static_x, NULL));
    CHECK(pthread_mutex_init(&static_y, NULL));
    run_thread(static_reverse, &(struct pair){&static_y, &static_x});
    CHECK(pthread_mutex_destroy(&static_x));
    CHECK(pthread_mutex_destroy(&static_y));
}

int main(void)
{
    heap_reuse();
    static_reinit();
    printf("lock_reuse: rounds=%d addresses reused\n", rounds);
    return 0;
}
