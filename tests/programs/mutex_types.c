/*
 * mutex_types.c - the agent keeps every mutex type's semantics and return
 * values: recursive mutexes nest, an errorcheck mutex answers EDEADLK to its
 * owner's relock and EPERM to a non-owner's unlock, and a robust mutex whose
 * owner died answers EOWNERDEAD to the next locker, who makes it consistent.
 * The program prints every return code, so any change shows on stdout.
 * Expected findings: the three bugs the program commits on purpose, as
 * lock-misuse errors (relock, unlock not held, exit while holding).
 */
#include "prog_util.h"

#include <errno.h>

pthread_mutex_t recursive_lock;
pthread_mutex_t errorcheck_lock;
pthread_mutex_t robust_lock;

static void init_mutex(pthread_mutex_t *m, int type, int robust)
{
    pthread_mutexattr_t attr;
    CHECK(pthread_mutexattr_init(&attr));
    CHECK(pthread_mutexattr_settype(&attr, type));
    if (robust)
        CHECK(pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST));
    CHECK(pthread_mutex_init(m, &attr));
    CHECK(pthread_mutexattr_destroy(&attr));
}

NOINLINE void nest_recursive(void)
{
    for (int i = 0; i < 3; i++)
        CHECK(pthread_mutex_lock(&recursive_lock));
    for (int i = 0; i < 3; i++)
        CHECK(pthread_mutex_unlock(&recursive_lock));
    printf("recursive: nested 3 deep, trylock after=%d\n", pthread_mutex_trylock(&recursive_lock));
    CHECK(pthread_mutex_unlock(&recursive_lock));
}

NOINLINE void errorcheck_relock(void)
{
    CHECK(pthread_mutex_lock(&errorcheck_lock));
    int rc = pthread_mutex_lock(&errorcheck_lock);
    printf("errorcheck: relock=%s\n", rc == EDEADLK ? "EDEADLK" : "other");
    CHECK(pthread_mutex_unlock(&errorcheck_lock));
}

NOINLINE void *errorcheck_foreign_unlock(void *arg)
{
    (void)arg;
    int rc = pthread_mutex_unlock(&errorcheck_lock);
    printf("errorcheck: unlock by non-owner=%s\n", rc == EPERM ? "EPERM" : "other");
    return NULL;
}

NOINLINE void *robust_owner_dies(void *arg)
{
    (void)arg;
    CHECK(pthread_mutex_lock(&robust_lock));
    return NULL; /* dies holding it */
}

NOINLINE void robust_recover(void)
{
    int rc = pthread_mutex_lock(&robust_lock);
    printf("robust: lock after owner died=%s\n", rc == EOWNERDEAD ? "EOWNERDEAD" : "other");
    if (rc == EOWNERDEAD)
        CHECK(pthread_mutex_consistent(&robust_lock));
    CHECK(pthread_mutex_unlock(&robust_lock));
    printf("robust: relock after consistent=%d\n", pthread_mutex_lock(&robust_lock));
    CHECK(pthread_mutex_unlock(&robust_lock));
}

int main(void)
{
    init_mutex(&recursive_lock, PTHREAD_MUTEX_RECURSIVE, 0);
    init_mutex(&errorcheck_lock, PTHREAD_MUTEX_ERRORCHECK, 0);
    init_mutex(&robust_lock, PTHREAD_MUTEX_NORMAL, 1);
    nest_recursive();
    errorcheck_relock();
    CHECK(pthread_mutex_lock(&errorcheck_lock));
    run_thread(errorcheck_foreign_unlock, NULL);
    CHECK(pthread_mutex_unlock(&errorcheck_lock));
    run_thread(robust_owner_dies, NULL);
    robust_recover();
    printf("mutex_types: done\n");
    return 0;
}
