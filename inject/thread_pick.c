/*
 * thread_pick.c - seize a thread whose stack is in no unsafe function.
 */
#include "thread_pick.h"

#include <dirent.h>
#include <errno.h>
#include <libunwind-ptrace.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proc_maps.h"

#define MAX_CANDIDATES 16 /* threads tried per round (main thread first) */
#define MAX_ROUNDS 25     /* rounds before giving up */
#define ROUND_PAUSE_MS 20
#define MAX_FRAMES 64
#define MAX_LD_RANGES 8

/* Address ranges of the dynamic loader's mappings. */
struct ld_ranges {
    uint64_t aStart[MAX_LD_RANGES];
    uint64_t aEnd[MAX_LD_RANGES];
    int n;
};

static int ld_visit(const struct tl_map *pMap, void *pCtx)
{
    struct ld_ranges *p = pCtx;
    if (strncmp(tl_path_base(pMap->zPath), "ld-", 3) == 0 && p->n < MAX_LD_RANGES) {
        p->aStart[p->n] = pMap->start;
        p->aEnd[p->n] = pMap->end;
        p->n++;
    }
    return 0;
}

static int in_ld(const struct ld_ranges *p, uint64_t ip)
{
    for (int i = 0; i < p->n; i++) {
        if (ip >= p->aStart[i] && ip < p->aEnd[i]) {
            return 1;
        }
    }
    return 0;
}

/* Functions that hold locks a new thread or dlopen may need. */
static int name_unsafe(const char *zName)
{
    static const char *const azExact[] = {
        "malloc", "free", "calloc", "realloc", "reallocarray", "memalign", "posix_memalign",
        "aligned_alloc", "valloc", "pvalloc", "dlopen", "dlmopen", "dlclose", "dlsym", "dlvsym",
        "pthread_create", "fork", "_Fork", "allocate_stack", "sysmalloc", "malloc_consolidate",
    };
    static const char *const azPrefix[] = {
        "_int_", "__libc_malloc", "__libc_free", "__libc_calloc", "__libc_realloc",
        "__libc_memalign", "tcache_", "arena_", "_dl_", "__libc_dl", "dl_open", "__pthread_create",
        "__libc_fork",
    };
    for (size_t i = 0; i < sizeof(azExact) / sizeof(azExact[0]); i++) {
        if (strcmp(zName, azExact[i]) == 0) {
            return 1;
        }
    }
    for (size_t i = 0; i < sizeof(azPrefix) / sizeof(azPrefix[0]); i++) {
        if (strncmp(zName, azPrefix[i], strlen(azPrefix[i])) == 0) {
            return 1;
        }
    }
    return 0;
}

/*
 * Walk the stopped thread's stack. Returns 1 with the reason in zWhy when it
 * is in an unsafe place, 0 when not (or when it cannot be unwound: its
 * innermost frame was checked, which is the best available).
 */
static int stack_unsafe(pid_t tid, const struct ld_ranges *pLd, char *zWhy, size_t nWhy)
{
    unw_addr_space_t as = unw_create_addr_space(&_UPT_accessors, 0);
    void *pUi = _UPT_create(tid);
    unw_cursor_t cursor;
    int unsafe = 0;
    if (as != NULL && pUi != NULL && unw_init_remote(&cursor, as, pUi) == 0) {
        for (int depth = 0; depth < MAX_FRAMES && !unsafe; depth++) {
            unw_word_t ip = 0;
            unw_word_t off = 0;
            char zName[256];
            unw_get_reg(&cursor, UNW_REG_IP, &ip);
            if (in_ld(pLd, ip)) {
                snprintf(zWhy, nWhy, "the dynamic loader");
                unsafe = 1;
            } else if (unw_get_proc_name(&cursor, zName, sizeof(zName), &off) == 0 &&
                       name_unsafe(zName)) {
                snprintf(zWhy, nWhy, "%s()", zName);
                unsafe = 1;
            }
            if (unw_step(&cursor) <= 0) {
                break;
            }
        }
    }
    if (pUi != NULL) {
        _UPT_destroy(pUi);
    }
    if (as != NULL) {
        unw_destroy_addr_space(as);
    }
    return unsafe;
}

/* The thread ids of pid, main thread first. Returns how many (<= nMax), or -errno. */
static int task_list(pid_t pid, pid_t *aTid, int nMax)
{
    char zDir[64];
    snprintf(zDir, sizeof(zDir), "/proc/%ld/task", (long)pid);
    DIR *pDir = opendir(zDir);
    if (pDir == NULL) {
        return -errno;
    }
    int n = 0;
    aTid[n++] = pid;
    struct dirent *pEnt;
    while (n < nMax && (pEnt = readdir(pDir)) != NULL) {
        long tid = strtol(pEnt->d_name, NULL, 10);
        if (tid > 0 && tid != pid) {
            aTid[n++] = (pid_t)tid;
        }
    }
    closedir(pDir);
    return n;
}

/* A thread's state letter from /proc/PID/task/TID/stat, '?' when unreadable. */
static char thread_state(pid_t pid, pid_t tid)
{
    char zFile[80];
    snprintf(zFile, sizeof(zFile), "/proc/%ld/task/%ld/stat", (long)pid, (long)tid);
    FILE *pIn = fopen(zFile, "re");
    char zLine[512] = "";
    if (pIn != NULL) {
        if (fgets(zLine, sizeof(zLine), pIn) == NULL) {
            zLine[0] = '\0';
        }
        fclose(pIn);
    }
    const char *zParen = strrchr(zLine, ')'); /* the name may hold spaces and ')' */
    return zParen != NULL && zParen[1] == ' ' ? zParen[2] : '?';
}

/*
 * Try to seize tid and keep it when its stack is safe. Returns 0 when kept,
 * 1 when busy or gone (try another), or a negative error to give up with.
 */
static int try_thread(pid_t pid, pid_t tid, const struct ld_ranges *pLd, struct tl_tracee *pOut,
                      char *zWhy, size_t nWhy)
{
    char state = thread_state(pid, tid);
    if (state == 'Z' || state == 'X' || state == '?') {
        return 1; /* exited (a main thread that called pthread_exit stays a zombie) */
    }
    int rc = tl_tracee_seize(pOut, pid, tid);
    if (rc == -ESRCH || (rc == TL_EGONE && tid != pid)) {
        return 1; /* that thread ended meanwhile */
    }
    if (rc != 0) {
        return rc;
    }
    if (!stack_unsafe(tid, pLd, zWhy, nWhy)) {
        return 0;
    }
    rc = tl_tracee_release(pOut);
    return rc == 0 || rc == -ESRCH ? 1 : rc;
}

/*
 * Seize a thread of pid that is safe to borrow, stopped, into *pOut.
 * Returns 0, TL_EBUSY (zWhy names the last unsafe place seen), or what
 * tl_tracee_seize returned (-EPERM, -ESRCH, TL_EGONE, -ETIMEDOUT...).
 */
int tl_thread_pick(pid_t pid, struct tl_tracee *pOut, char *zWhy, size_t nWhy)
{
    struct ld_ranges ld = {.n = 0};
    tl_maps_each(pid, ld_visit, &ld);
    snprintf(zWhy, nWhy, "an unsafe function");
    for (int round = 0; round < MAX_ROUNDS; round++) {
        pid_t aTid[MAX_CANDIDATES];
        int n = task_list(pid, aTid, MAX_CANDIDATES);
        if (n < 0) {
            return n == -ENOENT ? -ESRCH : n;
        }
        for (int i = 0; i < n; i++) {
            int rc = try_thread(pid, aTid[i], &ld, pOut, zWhy, nWhy);
            if (rc <= 0) {
                return rc;
            }
        }
        struct timespec ts = {0, ROUND_PAUSE_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    return TL_EBUSY;
}
