/*
 * idle_pool.c - a correct pool whose N_WORKERS workers wait on a condvar
 * longer than the agent's block_threshold (0.5 s in idle_pool.expect): main
 * sleeps IDLE_MS before it submits N_ITEMS items, then closes the queue and
 * joins every worker. Expected: one blocked-thread info per worker (one idle
 * episode each), nothing else.
 */
#include "prog_util.h"

#include <time.h>

#define N_WORKERS 4
#define N_ITEMS 8
#define IDLE_MS 1500

pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t work_ready = PTHREAD_COND_INITIALIZER;
int pending[N_ITEMS]; /* protected by pool_lock */
int n_pending;        /* protected by pool_lock */
int pool_closing;     /* protected by pool_lock: no more items will come */
long item_sum;        /* protected by pool_lock */
int items_done;       /* protected by pool_lock */

NOINLINE void *idle_worker(void *arg)
{
    (void)arg;
    CHECK(pthread_mutex_lock(&pool_lock));
    for (;;) {
        while (n_pending == 0 && !pool_closing)
            CHECK(pthread_cond_wait(&work_ready, &pool_lock));
        if (n_pending == 0)
            break;
        item_sum += pending[--n_pending];
        items_done++;
    }
    CHECK(pthread_mutex_unlock(&pool_lock));
    return NULL;
}

NOINLINE void submit_items(void)
{
    CHECK(pthread_mutex_lock(&pool_lock));
    for (int i = 1; i <= N_ITEMS; i++)
        pending[n_pending++] = i;
    CHECK(pthread_cond_broadcast(&work_ready));
    CHECK(pthread_mutex_unlock(&pool_lock));
}

NOINLINE void close_pool(void)
{
    CHECK(pthread_mutex_lock(&pool_lock));
    pool_closing = 1;
    CHECK(pthread_cond_broadcast(&work_ready));
    CHECK(pthread_mutex_unlock(&pool_lock));
}

int main(void)
{
    pthread_t workers[N_WORKERS];
    struct timespec idle = {IDLE_MS / 1000, (IDLE_MS % 1000) * 1000L * 1000L};

    for (int i = 0; i < N_WORKERS; i++)
        CHECK(pthread_create(&workers[i], NULL, idle_worker, NULL));
    REQUIRE(nanosleep(&idle, NULL) == 0);
    submit_items();
    close_pool();
    for (int i = 0; i < N_WORKERS; i++)
        CHECK(pthread_join(workers[i], NULL));
    printf("idle_pool: items=%d sum=%ld\n", items_done, item_sum);
    return 0;
}
