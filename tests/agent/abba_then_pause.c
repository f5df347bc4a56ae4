/*
 * abba_then_pause.c - takes lock_a/lock_b in both orders (two threads, one
 * after the other), prints "ready" and waits for a signal. Used by
 * signals.sh: whatever kills it, the inversion must reach the database.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;

static void *in_order(void *arg)
{
    pthread_mutex_t *first = ((pthread_mutex_t **)arg)[0], *second = ((pthread_mutex_t **)arg)[1];
    pthread_mutex_lock(first);
    pthread_mutex_lock(second);
    pthread_mutex_unlock(second);
    pthread_mutex_unlock(first);
    return NULL;
}

int main(void)
{
    pthread_mutex_t *ab[2] = {&lock_a, &lock_b}, *ba[2] = {&lock_b, &lock_a};
    pthread_t t;
    pthread_create(&t, NULL, in_order, ab);
    pthread_join(t, NULL);
    pthread_create(&t, NULL, in_order, ba);
    pthread_join(t, NULL);
    printf("ready\n");
    fflush(stdout);
    pause();
    return 0;
}
