/*
 * agent_path.c - locate the agent library for `threadlens run`.
 */
#include "agent_path.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TL_AGENT_NAME "libthreadlens.so"

/*
 * Put the default agent location, <dir of our executable>/../lib/<name>, in
 * zOut. Returns 0, or -ENAMETOOLONG / -errno when /proc/self/exe cannot be
 * read (then zOut names what was tried, for the error message).
 */
static int default_path(char *zOut, size_t nOut)
{
    char zExe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", zExe, sizeof(zExe) - 1);
    if (n < 0) {
        snprintf(zOut, nOut, "/proc/self/exe/../../lib/%s", TL_AGENT_NAME);
        return -errno;
    }
    zExe[n] = '\0';
    char *zSlash = strrchr(zExe, '/');
    if (zSlash != NULL) {
        *zSlash = '\0';
    }
    int w = snprintf(zOut, nOut, "%s/../lib/%s", zExe, TL_AGENT_NAME);
    if (w < 0 || (size_t)w >= nOut) {
        return -ENAMETOOLONG;
    }
    return 0;
}

/*
 * Find a readable agent library and store its canonical absolute path in
 * zOut (so LD_PRELOAD stays valid whatever directory the program moves to).
 * Returns 0 on success. On failure returns a negative errno and leaves in
 * zTried the location that was looked at, for the caller's message.
 */
int tl_agent_path_find(char *zOut, size_t nOut, char *zTried, size_t nTried)
{
    char zCand[PATH_MAX];
    const char *zEnv = getenv("THREADLENS_AGENT");
    int rc = 0;

    if (zEnv != NULL && zEnv[0] != '\0') {
        int w = snprintf(zCand, sizeof(zCand), "%s", zEnv);
        if (w < 0 || (size_t)w >= sizeof(zCand)) {
            rc = -ENAMETOOLONG;
        }
    } else {
        rc = default_path(zCand, sizeof(zCand));
    }
    snprintf(zTried, nTried, "%s", zCand);
    if (rc < 0) {
        return rc;
    }
    if (access(zCand, R_OK) != 0) {
        return -errno;
    }
    char zReal[PATH_MAX];
    if (realpath(zCand, zReal) == NULL) {
        return -errno;
    }
    if (strlen(zReal) >= nOut) {
        return -ENAMETOOLONG;
    }
    memcpy(zOut, zReal, strlen(zReal) + 1);
    return 0;
}
