/*
 * task_pool.c - a correct pool annotated with the task API: main submits
 * N_JOBS tasks (every fourth named at submit, every tenth renamed later),
 * POOL_WORKERS workers start and end each one. Also exercises what the API
 * must ignore: a task cancelled while queued (ended, never started), a
 * second end and a start after the end (a dead handle), and handle 0.
 * Expected: no finding at all.
 */
#include "task_pool.h"

#define N_JOBS 200

NOINLINE void submit_jobs(void)
{
    for (int i = 0; i < N_JOBS; i++) {
        struct job job = {.name = i % 4 == 0 ? "job" : NULL, .value = i};
        job.task = threadlens_task_submit(job.name);
        if (i % 10 == 0) {
            job.name = "renamed-job";
            threadlens_task_name(job.task, job.name);
        }
        pool_push(job);
    }
}

/* Handles the agent must ignore: none of these may change a thing. */
NOINLINE void misuse_handles(void)
{
    threadlens_task cancelled = threadlens_task_submit("cancelled");
    threadlens_task_end(cancelled); /* never started: a cancellation, not a leak */
    threadlens_task_end(cancelled); /* dead handle */
    threadlens_task_start(cancelled);
    threadlens_task_name(cancelled, "dead");
    threadlens_task_start(0);
    threadlens_task_end(0);
    threadlens_task_name(0, "none");
    threadlens_task_end(cancelled ^ 0x5a5a000000000000ull); /* a bogus handle */
    threadlens_task_end(0xffffffffffffffffull);
}

int main(void)
{
    pool_start();
    submit_jobs();
    misuse_handles();
    pool_stop();
    printf("task_pool: jobs=%d sum=%ld\n", pool_done, pool_sum);
    return 0;
}
