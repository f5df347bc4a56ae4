/*
 * procstat_probe.c - holds known numbers of open descriptors, threads and
 * resident bytes for a while, and prints what /proc says of them, for
 * procstat.sh to compare with the agent's samples of the same moments.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXTRA_FDS 40
#define EXTRA_THREADS 3
#define RESIDENT_MB 48

static pthread_barrier_t done;

static void *wait_for_done(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&done);
    return NULL;
}

/* Entries of a /proc directory, less "." and ".." and the descriptor reading it (fd_dir). */
static int count_entries(const char *path, int fd_dir)
{
    DIR *dir = opendir(path);
    int n = 0;
    for (struct dirent *e; dir && (e = readdir(dir));)
        n += e->d_name[0] != '.';
    if (dir)
        closedir(dir);
    return n - fd_dir;
}

static long status_kb(const char *key)
{
    char line[256];
    long value = -1;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, strlen(key)) == 0)
            value = strtol(line + strlen(key), NULL, 10);
    if (f)
        fclose(f);
    return value;
}

int main(void)
{
    for (int i = 0; i < EXTRA_FDS; i++)
        if (open("/dev/null", O_RDONLY) < 0)
            return 1;
    pthread_barrier_init(&done, NULL, EXTRA_THREADS + 1);
    pthread_t tid[EXTRA_THREADS];
    for (int i = 0; i < EXTRA_THREADS; i++)
        pthread_create(&tid[i], NULL, wait_for_done, NULL);
    volatile char *block = malloc(RESIDENT_MB << 20); /* volatile: every page really written */
    if (!block)
        return 1;
    for (size_t at = 0; at < (size_t)RESIDENT_MB << 20; at += 4096)
        block[at] = 1;
    usleep(500 * 1000); /* the agent's database and its files are open by now */
    printf("fds %d threads %d rss_kb %ld\n", count_entries("/proc/self/fd", 1),
           count_entries("/proc/self/task", 0), status_kb("VmRSS:"));
    fflush(stdout);
    usleep(1000 * 1000); /* sampled every 100 ms meanwhile */
    pthread_barrier_wait(&done);
    for (int i = 0; i < EXTRA_THREADS; i++)
        pthread_join(tid[i], NULL);
    free((void *)block);
    return 0;
}
