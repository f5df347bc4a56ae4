/*
 * libs_probe.c - prints the file names of the shared objects mapped into
 * this process, after doing nothing ("quiet") or after allocating for a
 * while ("sampling", 500 ms of small blocks: under sample_bytes=1 every one
 * is a heap sample with its stack), for libs.sh to see what the agent loads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void allocate_for(double seconds)
{
    static void *volatile keep[64];
    double end = now_s() + seconds;
    for (unsigned i = 0; now_s() < end; i++) {
        free(keep[i % 64]);
        keep[i % 64] = malloc(16 + i % 512);
    }
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "sampling") == 0)
        allocate_for(0.5);
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[4096];
    while (maps && fgets(line, sizeof line, maps)) {
        const char *slash = strrchr(line, '/');
        if (slash && strstr(slash, ".so"))
            fputs(slash + 1, stdout);
    }
    return maps ? 0 : 1;
}
