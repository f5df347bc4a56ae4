/*
 * busy_phases.c - a correct, busy program for the agent's fault tests. Each
 * phase creates and joins threads that take locks in one order, allocate and
 * free; between phases it reads one line from stdin, so a test can damage the
 * database at a known moment and let the program go on. Prints one checksum
 * line per phase; exits 7, so a changed exit status shows.
 *
 * usage: busy_phases PHASES ROUNDS
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 4

static pthread_mutex_t outer = PTHREAD_MUTEX_INITIALIZER; /* always before inner */
static pthread_mutex_t inner = PTHREAD_MUTEX_INITIALIZER; /* guards total */
static unsigned long total;

static void *work(void *arg)
{
    unsigned long n = (unsigned long)arg;

    for (unsigned long i = 0; i < 200; i++) {
        char *p = malloc(64 + (i * n) % 4096);

        if (!p)
            return NULL;
        memset(p, (int)i, 64);
        pthread_mutex_lock(&outer);
        pthread_mutex_lock(&inner);
        total += (unsigned char)p[63] + n;
        pthread_mutex_unlock(&inner);
        pthread_mutex_unlock(&outer);
        free(p);
    }
    return NULL;
}

static void phase(int rounds)
{
    for (int r = 0; r < rounds; r++) {
        pthread_t t[THREADS];

        for (unsigned long i = 0; i < THREADS; i++)
            pthread_create(&t[i], NULL, work, (void *)(i + (unsigned long)r));
        for (int i = 0; i < THREADS; i++)
            pthread_join(t[i], NULL);
    }
}

int main(int argc, char **argv)
{
    int phases = argc > 1 ? atoi(argv[1]) : 2;
    int rounds = argc > 2 ? atoi(argv[2]) : 50;
    char line[64];

    for (int p = 0; p < phases; p++) {
        if (p > 0 && !fgets(line, sizeof(line), stdin))
            break;
        phase(rounds);
        printf("phase %d total %lu\n", p, total);
        fflush(stdout);
    }
    return 7;
}
