/*
 * compare.c - tl-bench-compare: wall time of a program run bare and under
 * `threadlens run`, alternating (bare, agent, bare, agent, ...) so drift in
 * machine load hits both sides alike. Prints medians, minima and the ratio.
 * Exits non-zero only when a run fails, never because of a timing.
 *
 * usage: tl-bench-compare [--rounds N] [--threadlens BIN] [--] PROG [ARGS...]
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TL_DEFAULT_ROUNDS 5

static void usage(void)
{
    fprintf(stderr,
            "usage: tl-bench-compare [--rounds N] [--threadlens BIN] [--] PROG [ARGS...]\n"
            "  --rounds N        bare/threadlens pairs to run (default %d)\n"
            "  --threadlens BIN  launcher to use (default: threadlens next to this program)\n",
            TL_DEFAULT_ROUNDS);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*
 * Run azArgv with stdout on /dev/null and wait for it; *pMs gets the wall
 * time from before fork to after waitpid. Returns 0 when it exited 0, else
 * prints what happened (naming zWhat) and returns 1.
 */
static int run_timed(char **azArgv, const char *zWhat, double *pMs)
{
    fflush(NULL);
    double t0 = now_ms();
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "tl-bench-compare: fork: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            close(fd);
        }
        execvp(azArgv[0], azArgv);
        fprintf(stderr, "tl-bench-compare: cannot run %s: %s\n", azArgv[0], strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "tl-bench-compare: waitpid: %s\n", strerror(errno));
            return 1;
        }
    }
    *pMs = now_ms() - t0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return 0;
    }
    if (WIFSIGNALED(status)) {
        fprintf(stderr, "tl-bench-compare: %s run killed by signal %d\n", zWhat,
                WTERMSIG(status));
    } else {
        fprintf(stderr, "tl-bench-compare: %s run exited with status %d\n", zWhat,
                WEXITSTATUS(status));
    }
    return 1;
}

static int cmp_double(const void *pA, const void *pB)
{
    double a = *(const double *)pA;
    double b = *(const double *)pB;
    return (a > b) - (a < b);
}

/* Median of n values; sorts a in place. */
static double median(double *a, int n)
{
    qsort(a, (size_t)n, sizeof(*a), cmp_double);
    return n % 2 ? a[n / 2] : (a[n / 2 - 1] + a[n / 2]) / 2.0;
}

/* The launcher next to this executable. Returns 0, or -1 if it can't say. */
static int default_launcher(char *zOut, size_t nOut)
{
    char zExe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", zExe, sizeof(zExe) - 1);
    if (n < 0) {
        return -1;
    }
    zExe[n] = '\0';
    char *zSlash = strrchr(zExe, '/');
    if (zSlash != NULL) {
        *zSlash = '\0';
    }
    int w = snprintf(zOut, nOut, "%s/threadlens", zExe);
    return (w < 0 || (size_t)w >= nOut) ? -1 : 0;
}

/* Remove the run's database files and the scratch directory. Can't fail. */
static void scratch_remove(const char *zDir, const char *zDb)
{
    static const char *const azSuffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof(azSuffix) / sizeof(azSuffix[0]); i++) {
        char zFile[PATH_MAX + 32];
        snprintf(zFile, sizeof(zFile), "%s%s", zDb, azSuffix[i]);
        unlink(zFile);
    }
    if (rmdir(zDir) != 0) {
        fprintf(stderr, "tl-bench-compare: left %s behind: %s\n", zDir, strerror(errno));
    }
}

int main(int argc, char **argv)
{
    int nRounds = TL_DEFAULT_ROUNDS;
    char zLauncher[PATH_MAX] = "";
    int i = 1;
    while (i < argc) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
            char *zEnd = NULL;
            long n = strtol(argv[i + 1], &zEnd, 10);
            if (zEnd == argv[i + 1] || *zEnd != '\0' || n < 1 || n > 10000) {
                fprintf(stderr, "tl-bench-compare: bad --rounds '%s'\n", argv[i + 1]);
                return 2;
            }
            nRounds = (int)n;
            i += 2;
        } else if (strcmp(argv[i], "--threadlens") == 0 && i + 1 < argc) {
            snprintf(zLauncher, sizeof(zLauncher), "%s", argv[i + 1]);
            i += 2;
        } else if (argv[i][0] == '-') {
            usage();
            return 2;
        } else {
            break;
        }
    }
    if (i >= argc) {
        usage();
        return 2;
    }
    if (zLauncher[0] == '\0' && default_launcher(zLauncher, sizeof(zLauncher)) != 0) {
        fprintf(stderr, "tl-bench-compare: cannot locate threadlens; use --threadlens BIN\n");
        return 2;
    }
    char **azProg = &argv[i];
    int nProg = argc - i;

    const char *zTmp = getenv("TMPDIR");
    char zDir[PATH_MAX];
    snprintf(zDir, sizeof(zDir), "%s/tl-bench-XXXXXX", zTmp != NULL && zTmp[0] ? zTmp : "/tmp");
    if (mkdtemp(zDir) == NULL) {
        fprintf(stderr, "tl-bench-compare: mkdtemp %s: %s\n", zDir, strerror(errno));
        return 1;
    }
    char zDb[PATH_MAX + 16];
    snprintf(zDb, sizeof(zDb), "%s/bench.db", zDir);

    /* BIN run --db DB -- PROG ARGS... NULL */
    char **azAgent = calloc((size_t)nProg + 6, sizeof(*azAgent));
    double *aBare = calloc((size_t)nRounds, sizeof(*aBare));
    double *aAgent = calloc((size_t)nRounds, sizeof(*aAgent));
    if (azAgent == NULL || aBare == NULL || aAgent == NULL) {
        fprintf(stderr, "tl-bench-compare: out of memory\n");
        return 1;
    }
    azAgent[0] = zLauncher;
    azAgent[1] = "run";
    azAgent[2] = "--db";
    azAgent[3] = zDb;
    azAgent[4] = "--";
    memcpy(&azAgent[5], azProg, (size_t)nProg * sizeof(*azProg));

    int rc = 0;
    for (int r = 0; r < nRounds && rc == 0; r++) {
        rc = run_timed(azProg, "bare", &aBare[r]);
        if (rc == 0) {
            rc = run_timed(azAgent, "threadlens", &aAgent[r]);
        }
    }
    scratch_remove(zDir, zDb);
    if (rc != 0) {
        return 1;
    }

    const char *zSlash = strrchr(azProg[0], '/');
    const char *zName = zSlash != NULL ? zSlash + 1 : azProg[0];
    double bareMed = median(aBare, nRounds);
    double agentMed = median(aAgent, nRounds);
    printf("%-24s %6s %12s %12s %12s %12s %7s\n", "benchmark", "rounds", "bare med ms",
           "bare min ms", "tl med ms", "tl min ms", "ratio");
    printf("%-24s %6d %12.1f %12.1f %12.1f %12.1f %7.2f\n", zName, nRounds, bareMed, aBare[0],
           agentMed, aAgent[0], agentMed / bareMed);
    printf("(ratio = threadlens median / bare median; min = the fastest round)\n");
    free(azAgent);
    free(aBare);
    free(aAgent);
    return 0;
}
