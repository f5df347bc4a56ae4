/*
 * probe.c - target program for the launcher tests. Modes:
 *   probe env ARGS...   print pid, LD_PRELOAD, THREADLENS_OPTIONS and argv
 *   probe exit N        exit with status N
 *   probe kill SIG      raise signal SIG (with its default action)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *env_or_unset(const char *zName)
{
    const char *z = getenv(zName);
    return z != NULL ? z : "(unset)";
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "env") == 0) {
        printf("pid=%ld\n", (long)getpid());
        printf("LD_PRELOAD=%s\n", env_or_unset("LD_PRELOAD"));
        printf("THREADLENS_OPTIONS=%s\n", env_or_unset("THREADLENS_OPTIONS"));
        for (int i = 0; i < argc; i++) {
            printf("argv[%d]=%s\n", i, argv[i]);
        }
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "exit") == 0) {
        return atoi(argv[2]);
    }
    if (argc == 3 && strcmp(argv[1], "kill") == 0) {
        int sig = atoi(argv[2]);
        signal(sig, SIG_DFL);
        raise(sig);
        return 100; /* not reached for a fatal signal */
    }
    fprintf(stderr, "usage: probe env ARGS... | exit N | kill SIG\n");
    return 99;
}
