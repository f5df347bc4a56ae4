/*
 * abba_then_work.c MODE SECONDS - MODE "abba" takes lock_a/lock_b in both
 * orders (two threads, one after the other), MODE "clean" in one order
 * only; then it prints "locks done" and keeps working (sleeping in short
 * steps) for SECONDS, prints "work done" and exits with status 3, its own,
 * so a test can tell it from the agent's. Used by halt_on_error.sh,
 * on_finding.sh and symbolize.sh; the line marked below is where the
 * second lock of each order is taken, which a report's SUMMARY must name.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;

static __attribute__((noinline)) void *in_order(void *arg)
{
    pthread_mutex_t **pair = arg;
    pthread_mutex_lock(pair[0]);
    pthread_mutex_lock(pair[1]); /* tl-marker: second lock */
    pthread_mutex_unlock(pair[1]);
    pthread_mutex_unlock(pair[0]);
    return NULL;
}

static void run_in_thread(pthread_mutex_t *first, pthread_mutex_t *second)
{
    pthread_mutex_t *pair[2] = {first, second};
    pthread_t t;
    if (pthread_create(&t, NULL, in_order, pair) != 0 || pthread_join(t, NULL) != 0)
        abort();
}

int main(int argc, char **argv)
{
    int abba = argc > 1 && strcmp(argv[1], "abba") == 0;
    int seconds = argc > 2 ? atoi(argv[2]) : 30;
    run_in_thread(&lock_a, &lock_b);
    if (abba)
        run_in_thread(&lock_b, &lock_a);
    printf("locks done\n");
    fflush(stdout);
    for (int i = 0; i < seconds * 20; i++)
        nanosleep(&(struct timespec){0, 50 * 1000000}, NULL);
    printf("work done\n");
    return 3;
}
