/*
 * task_pool.h - the annotated worker pool shared by task_pool and task_leak:
 * POOL_WORKERS workers take jobs from a bounded queue (POOL_QUEUE_CAP) and
 * run them, telling threadlens through the task API (threadlens.h): the
 * producer submits each job's task, the worker that takes it starts and ends
 * it. A job named "forgotten" is started but never ended, on purpose.
 *
 * pool_start() creates the workers, pool_push() queues a job (blocks while
 * the queue is full), pool_stop() closes the queue, lets the workers drain
 * it and joins them. pool_sum is the checksum of the jobs run. Include once
 * per program.
 */
#ifndef TL_PROG_TASK_POOL_H
#define TL_PROG_TASK_POOL_H

#include "prog_util.h"
#include "threadlens.h"

#define POOL_WORKERS 4
#define POOL_QUEUE_CAP 8

struct job {
    threadlens_task task; /* 0 when the agent is not loaded */
    const char *name;     /* the task's name, NULL = unnamed */
    int value;
};

pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t pool_not_empty = PTHREAD_COND_INITIALIZER;
pthread_cond_t pool_not_full = PTHREAD_COND_INITIALIZER;
struct job pool_queue[POOL_QUEUE_CAP]; /* protected by pool_lock */
int pool_head, pool_len;               /* protected by pool_lock */
int pool_closing;                      /* protected by pool_lock */
long pool_sum;                         /* protected by pool_lock */
int pool_done;                         /* protected by pool_lock: jobs run */
pthread_t pool_threads[POOL_WORKERS];

/* Pops one job. Returns 1, or 0 once the queue is closed and empty. */
static int pool_pop(struct job *out)
{
    int got = 0;

    CHECK(pthread_mutex_lock(&pool_lock));
    while (pool_len == 0 && !pool_closing)
        CHECK(pthread_cond_wait(&pool_not_empty, &pool_lock));
    if (pool_len > 0) {
        *out = pool_queue[pool_head];
        pool_head = (pool_head + 1) % POOL_QUEUE_CAP;
        pool_len--;
        got = 1;
        CHECK(pthread_cond_signal(&pool_not_full));
    }
    CHECK(pthread_mutex_unlock(&pool_lock));
    return got;
}

static void pool_push(struct job job)
{
    CHECK(pthread_mutex_lock(&pool_lock));
    while (pool_len == POOL_QUEUE_CAP)
        CHECK(pthread_cond_wait(&pool_not_full, &pool_lock));
    pool_queue[(pool_head + pool_len) % POOL_QUEUE_CAP] = job;
    pool_len++;
    CHECK(pthread_cond_signal(&pool_not_empty));
    CHECK(pthread_mutex_unlock(&pool_lock));
}

/* The job's work: a little arithmetic, so the output checks every job ran once. */
NOINLINE long run_job(int value)
{
    long x = value;
    for (int i = 0; i < 100; i++)
        x = (x * 31 + i) % 1000003;
    return x;
}

NOINLINE void *pool_worker(void *arg)
{
    struct job job;

    (void)arg;
    while (pool_pop(&job)) {
        threadlens_task_start(job.task);
        long result = run_job(job.value);
        CHECK(pthread_mutex_lock(&pool_lock));
        pool_sum += result;
        pool_done++;
        CHECK(pthread_mutex_unlock(&pool_lock));
        if (!job.name || strcmp(job.name, "forgotten") != 0) /* the bug of task_leak */
            threadlens_task_end(job.task);
    }
    return NULL;
}

static void pool_start(void)
{
    for (int i = 0; i < POOL_WORKERS; i++)
        CHECK(pthread_create(&pool_threads[i], NULL, pool_worker, NULL));
}

static void pool_stop(void)
{
    CHECK(pthread_mutex_lock(&pool_lock));
    pool_closing = 1;
    CHECK(pthread_cond_broadcast(&pool_not_empty));
    CHECK(pthread_mutex_unlock(&pool_lock));
    for (int i = 0; i < POOL_WORKERS; i++)
        CHECK(pthread_join(pool_threads[i], NULL));
}

#endif
