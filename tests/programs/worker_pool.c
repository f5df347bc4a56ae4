/*
 * worker_pool.c - a correct, busy program that uses every kind of lock the
 * agent wraps; threadlens must stay silent on it (no finding at all).
 *
 *   queue_lock   statically initialised mutex guarding a bounded queue, with
 *                condvars not_empty / not_full; main produces N_ITEMS items,
 *                N_WORKERS workers consume them (real contention)
 *   config_lock  rwlock: workers read the config, main rewrites it every
 *                CONFIG_EVERY items (with the same scale, so output is fixed)
 *   stats_lock   recursive mutex, relocked by stats_add()
 *   counter_lock spinlock around the processed-items counter, always taken
 *                inside stats_lock (one consistent order)
 *   slots        semaphore allowing at most N_SLOTS workers to process at once
 *
 * Shutdown: main sets `closing` under queue_lock and broadcasts; workers drain
 * the queue and return; main joins every worker and destroys every lock.
 */
#include "prog_util.h"

#include <semaphore.h>

#define N_WORKERS 4
#define N_ITEMS 20000
#define QUEUE_CAP 16
#define CONFIG_EVERY 1000
#define N_SLOTS 2

struct config {
    long scale;      /* multiplier applied to each item */
    long generation; /* bumped on every rewrite */
};

pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
int queue[QUEUE_CAP];  /* protected by queue_lock */
int queue_head;        /* protected by queue_lock: next slot to pop */
int queue_len;         /* protected by queue_lock */
int closing;           /* protected by queue_lock: no more items will come */

pthread_rwlock_t config_lock;
struct config config; /* protected by config_lock */

pthread_mutex_t stats_lock; /* recursive */
long stats_sum;             /* protected by stats_lock */
int stats_max_nesting;      /* protected by stats_lock */

pthread_spinlock_t counter_lock;
long processed; /* protected by counter_lock */

sem_t slots;

/* Pops one item into *item. Returns 1, or 0 once the queue is closed and empty. */
static int queue_pop(int *item)
{
    int got = 0;

    CHECK(pthread_mutex_lock(&queue_lock));
    while (queue_len == 0 && !closing)
        CHECK(pthread_cond_wait(&not_empty, &queue_lock));
    if (queue_len > 0) {
        *item = queue[queue_head];
        queue_head = (queue_head + 1) % QUEUE_CAP;
        queue_len--;
        got = 1;
        CHECK(pthread_cond_signal(&not_full));
    }
    CHECK(pthread_mutex_unlock(&queue_lock));
    return got;
}

static void queue_push(int item)
{
    CHECK(pthread_mutex_lock(&queue_lock));
    while (queue_len == QUEUE_CAP)
        CHECK(pthread_cond_wait(&not_full, &queue_lock));
    queue[(queue_head + queue_len) % QUEUE_CAP] = item;
    queue_len++;
    CHECK(pthread_cond_signal(&not_empty));
    CHECK(pthread_mutex_unlock(&queue_lock));
}

static void queue_close(void)
{
    CHECK(pthread_mutex_lock(&queue_lock));
    closing = 1;
    CHECK(pthread_cond_broadcast(&not_empty));
    CHECK(pthread_mutex_unlock(&queue_lock));
}

/* Adds value to the stats; relocks the recursive stats_lock on purpose. */
NOINLINE void stats_add(long value, int depth)
{
    CHECK(pthread_mutex_lock(&stats_lock));
    if (depth > stats_max_nesting)
        stats_max_nesting = depth;
    if (depth < 2) {
        stats_add(value, depth + 1);
    } else {
        stats_sum += value;
        CHECK(pthread_spin_lock(&counter_lock));
        processed++;
        CHECK(pthread_spin_unlock(&counter_lock));
    }
    CHECK(pthread_mutex_unlock(&stats_lock));
}

NOINLINE void *pool_worker(void *arg)
{
    int item;
    long scale;

    (void)arg;
    while (queue_pop(&item)) {
        CHECK_ERRNO(sem_wait(&slots));
        CHECK(pthread_rwlock_rdlock(&config_lock));
        scale = config.scale;
        CHECK(pthread_rwlock_unlock(&config_lock));
        stats_add((long)item * scale, 0);
        CHECK_ERRNO(sem_post(&slots));
    }
    return NULL;
}

NOINLINE void config_rewrite(long scale)
{
    CHECK(pthread_rwlock_wrlock(&config_lock));
    config.scale = scale;
    config.generation++;
    CHECK(pthread_rwlock_unlock(&config_lock));
}

int main(void)
{
    pthread_t workers[N_WORKERS];
    pthread_mutexattr_t attr;
    long done;

    CHECK(pthread_rwlock_init(&config_lock, NULL));
    CHECK(pthread_mutexattr_init(&attr));
    CHECK(pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE));
    CHECK(pthread_mutex_init(&stats_lock, &attr));
    CHECK(pthread_mutexattr_destroy(&attr));
    CHECK(pthread_spin_init(&counter_lock, PTHREAD_PROCESS_PRIVATE));
    CHECK_ERRNO(sem_init(&slots, 0, N_SLOTS));
    config_rewrite(3);

    for (int i = 0; i < N_WORKERS; i++)
        CHECK(pthread_create(&workers[i], NULL, pool_worker, NULL));
    for (int i = 1; i <= N_ITEMS; i++) {
        queue_push(i);
        if (i % CONFIG_EVERY == 0)
            config_rewrite(3);
    }
    queue_close();
    for (int i = 0; i < N_WORKERS; i++)
        CHECK(pthread_join(workers[i], NULL));

    CHECK(pthread_spin_lock(&counter_lock));
    done = processed;
    CHECK(pthread_spin_unlock(&counter_lock));
    REQUIRE(done == N_ITEMS);
    printf("worker_pool: items=%ld sum=%ld generation=%ld nesting=%d\n", done, stats_sum,
           config.generation, stats_max_nesting);

    CHECK_ERRNO(sem_destroy(&slots));
    CHECK(pthread_spin_destroy(&counter_lock));
    CHECK(pthread_mutex_destroy(&stats_lock));
    CHECK(pthread_rwlock_destroy(&config_lock));
    CHECK(pthread_cond_destroy(&not_full));
    CHECK(pthread_cond_destroy(&not_empty));
    CHECK(pthread_mutex_destroy(&queue_lock));
    return 0;
}
