/*
 * busy_threads.c - a program to attach to and detach from again and again:
 * four threads allocate, fill, check and free buffers and update shared
 * counters under two mutexes, in batches, until SIGTERM (or 60 s). Every
 * batch must produce the same checksum; the output is the same whatever the
 * number of batches run: "busy: 4 threads, batch checksum X, all equal" (or
 * a line saying what went wrong, and status 3).
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define N_THREADS 4
#define BATCH 200
#define LIMIT_S 60

static pthread_mutex_t lockTotal = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lockPair = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t stop;
static uint64_t total; /* under lockTotal */
static uint64_t aPair[2]; /* under lockPair: always equal */

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

/* One batch: returns its checksum, or 0 after a corruption. */
static uint64_t batch(int seed)
{
    uint64_t sum = 0;
    for (int i = 0; i < BATCH; i++) {
        size_t n = 16 + (size_t)((i * 37 + seed) % 512);
        unsigned char *p = malloc(n);
        if (p == NULL) {
            return 0;
        }
        memset(p, (i + seed) & 0xff, n);
        for (size_t k = 0; k < n; k += 7) {
            sum = sum * 31 + p[k];
        }
        free(p);
        pthread_mutex_lock(&lockTotal);
        total++;
        pthread_mutex_unlock(&lockTotal);
        pthread_mutex_lock(&lockPair);
        aPair[0]++;
        aPair[1]++;
        int ok = aPair[0] == aPair[1];
        pthread_mutex_unlock(&lockPair);
        if (!ok) {
            return 0;
        }
    }
    return sum;
}

/* Runs batches until stop; returns (void *)1 if any checksum differed. */
static void *worker(void *pArg)
{
    uint64_t *pFirst = pArg;
    *pFirst = batch(1);
    int bad = *pFirst == 0;
    while (!stop && !bad) {
        bad = batch(1) != *pFirst;
        usleep(500);
    }
    return bad ? (void *)1 : NULL;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    pthread_t aT[N_THREADS];
    uint64_t aFirst[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        pthread_create(&aT[i], NULL, worker, &aFirst[i]);
    }
    printf("running\n");
    fflush(stdout);
    for (int s = 0; s < LIMIT_S * 10 && !stop; s++) {
        usleep(100000);
    }
    stop = 1;
    int bad = 0;
    for (int i = 0; i < N_THREADS; i++) {
        void *pRet;
        pthread_join(aT[i], &pRet);
        bad |= pRet != NULL || aFirst[i] != aFirst[0];
    }
    if (bad) {
        printf("busy: a batch checksum differed\n");
        return 3;
    }
    printf("busy: %d threads, batch checksum %llx, all equal\n", N_THREADS,
           (unsigned long long)aFirst[0]);
    return 0;
}
