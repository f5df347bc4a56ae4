/*
 * stress_signals.c - signals landing inside wrapped calls. A 200 us
 * ITIMER_REAL delivers a SIGALRM storm (handler: a sig_atomic_t counter)
 * while four threads lock two mutexes in one order, wait on a condition
 * variable, post and wait a semaphore, and allocate and free. Interrupted
 * calls must behave as without the agent: locks are not lost, waits resume.
 * The output does not depend on how many signals landed.
 * Expected: no finding.
 */
#include <semaphore.h>
#include <signal.h>
#include <sys/time.h>

#include "prog_util.h"

#define THREADS 4
#define ITERATIONS 20000

static pthread_mutex_t outer = PTHREAD_MUTEX_INITIALIZER; /* always before inner */
static pthread_mutex_t inner = PTHREAD_MUTEX_INITIALIZER; /* guards total, turn */
static pthread_cond_t turn_cond = PTHREAD_COND_INITIALIZER;
static long total;
static int turn;        /* whose turn it is in the ping-pong, under inner */
static sem_t tokens;
static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

NOINLINE static void *worker(void *arg)
{
    long id = (long)arg;

    for (long i = 0; i < ITERATIONS; i++) {
        char *p = malloc(16 + (size_t)(i % 512));
        REQUIRE(p != NULL);
        p[0] = (char)i;
        CHECK(pthread_mutex_lock(&outer));
        CHECK(pthread_mutex_lock(&inner));
        total += p[0] == (char)i;
        CHECK(pthread_mutex_unlock(&inner));
        CHECK(pthread_mutex_unlock(&outer));
        free(p);
        while (sem_wait(&tokens) != 0)
            REQUIRE(errno == EINTR);
        CHECK_ERRNO(sem_post(&tokens));
        if (i % 1000 == 0) { /* threads 0 and 1 take turns through a condition variable */
            if (id > 1)
                continue;
            CHECK(pthread_mutex_lock(&inner));
            while (turn != id)
                CHECK(pthread_cond_wait(&turn_cond, &inner));
            turn = 1 - turn;
            CHECK(pthread_cond_broadcast(&turn_cond));
            CHECK(pthread_mutex_unlock(&inner));
        }
    }
    return NULL;
}

int main(void)
{
    struct sigaction sa = {.sa_handler = on_alarm};
    struct itimerval storm = {.it_interval = {0, 200}, .it_value = {0, 200}};
    pthread_t threads[THREADS];

    sigemptyset(&sa.sa_mask);
    CHECK_ERRNO(sigaction(SIGALRM, &sa, NULL));
    CHECK_ERRNO(sem_init(&tokens, 0, 2));
    CHECK_ERRNO(setitimer(ITIMER_REAL, &storm, NULL));
    for (long i = 0; i < THREADS; i++)
        CHECK(pthread_create(&threads[i], NULL, worker, (void *)i));
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_join(threads[i], NULL));
    CHECK_ERRNO(setitimer(ITIMER_REAL, &(struct itimerval){0}, NULL));
    REQUIRE(alarms > 0);
    printf("total %ld\n", total);
    return 0;
}
