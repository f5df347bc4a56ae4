/*
 * task_leak.c - the annotated pool of task_pool.h with a bug: besides
 * N_JOBS correct jobs from submit_jobs, submit_forgotten queues N_FORGOTTEN
 * jobs named "forgotten" that the workers start and never end. The pool
 * still shuts down cleanly (every job runs, every worker is joined).
 * Expected: one task-leak warning, for the tasks submitted from
 * submit_forgotten.
 */
#include "task_pool.h"

#define N_JOBS 100
#define N_FORGOTTEN 3

NOINLINE void submit_jobs(void)
{
    for (int i = 0; i < N_JOBS; i++) {
        struct job job = {.name = "job", .value = i};
        job.task = threadlens_task_submit(job.name);
        pool_push(job);
    }
}

NOINLINE void submit_forgotten(void)
{
    for (int i = 0; i < N_FORGOTTEN; i++) {
        struct job job = {.name = "forgotten", .value = 1000 + i};
        job.task = threadlens_task_submit(job.name);
        pool_push(job);
    }
}

int main(void)
{
    pool_start();
    submit_jobs();
    submit_forgotten();
    submit_jobs();
    pool_stop();
    printf("task_leak: jobs=%d sum=%ld\n", pool_done, pool_sum);
    return 0;
}
