/*
 * proc_target.c - read /proc/PID/status and friends; explain EPERM.
 */
#include "proc_target.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc_maps.h"

#define CAP_SYS_PTRACE_BIT 19

/* Fill p from /proc/PID/status. Returns 0 or -errno (-ENOENT: no such process). */
static int status_read(pid_t pid, struct tl_target *p)
{
    char zFile[64];
    snprintf(zFile, sizeof(zFile), "/proc/%ld/status", (long)pid);
    FILE *pIn = fopen(zFile, "re");
    if (pIn == NULL) {
        return -errno;
    }
    char zLine[512];
    while (fgets(zLine, sizeof(zLine), pIn) != NULL) {
        if (strncmp(zLine, "Name:\t", 6) == 0) {
            snprintf(p->zName, sizeof(p->zName), "%.*s", (int)strcspn(zLine + 6, "\n"),
                     zLine + 6);
        } else if (strncmp(zLine, "Tgid:\t", 6) == 0) {
            p->tgid = strtol(zLine + 6, NULL, 10);
        } else if (strncmp(zLine, "State:\t", 7) == 0) {
            p->state = zLine[7];
        } else if (strncmp(zLine, "Uid:\t", 5) == 0) {
            p->uid = strtol(zLine + 5, NULL, 10);
        } else if (strncmp(zLine, "TracerPid:\t", 11) == 0) {
            p->tracerPid = strtol(zLine + 11, NULL, 10);
        } else if (strncmp(zLine, "Seccomp:\t", 9) == 0) {
            p->seccomp = (int)strtol(zLine + 9, NULL, 10);
        }
    }
    fclose(pIn);
    return 0;
}

/*
 * Read what we need to know about pid. Returns 0, or -ESRCH when there is no
 * such process. /proc/TID also exists for a thread: then p->tgid != pid.
 */
int tl_target_read(pid_t pid, struct tl_target *p)
{
    memset(p, 0, sizeof(*p));
    p->pid = pid;
    p->uid = -1;
    if (pid <= 0 || status_read(pid, p) != 0) {
        return -ESRCH;
    }
    char zFile[64];
    snprintf(zFile, sizeof(zFile), "/proc/%ld/exe", (long)pid);
    ssize_t n = readlink(zFile, p->zExe, sizeof(p->zExe) - 1);
    if (n > 0) {
        p->zExe[n] = '\0';
        snprintf(p->zName, sizeof(p->zName), "%s", tl_path_base(p->zExe));
    }
    return 0;
}

/* Whether this process has CAP_SYS_PTRACE in its effective set. */
static int have_cap_sys_ptrace(void)
{
    FILE *pIn = fopen("/proc/self/status", "re");
    if (pIn == NULL) {
        return 0;
    }
    char zLine[256];
    unsigned long long caps = 0;
    while (fgets(zLine, sizeof(zLine), pIn) != NULL) {
        if (strncmp(zLine, "CapEff:\t", 8) == 0) {
            caps = strtoull(zLine + 8, NULL, 16);
        }
    }
    fclose(pIn);
    return (caps >> CAP_SYS_PTRACE_BIT) & 1;
}

/* kernel.yama.ptrace_scope, or -1 when Yama is not there. */
static int yama_scope(void)
{
    FILE *pIn = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
    int scope = -1;
    if (pIn != NULL) {
        if (fscanf(pIn, "%d", &scope) != 1) {
            scope = -1;
        }
        fclose(pIn);
    }
    return scope;
}

/* Print why ptrace was refused for p, and what to do about it. Can't fail. */
void tl_target_explain_eperm(const struct tl_target *p)
{
    int cap = have_cap_sys_ptrace();
    int scope = yama_scope();
    fprintf(stderr, "threadlens: not allowed to trace process %ld (%s): ", (long)p->pid,
            p->zName);
    if (scope == 3) {
        fprintf(stderr, "kernel.yama.ptrace_scope is 3, which forbids ptrace entirely until "
                        "reboot; start the program under `threadlens run` instead\n");
    } else if (!cap && p->uid >= 0 && p->uid != (long)getuid()) {
        fprintf(stderr, "it runs as uid %ld and you are uid %ld; run threadlens as that user "
                        "or as root (CAP_SYS_PTRACE)\n", p->uid, (long)getuid());
    } else if (!cap && scope == 2) {
        fprintf(stderr, "kernel.yama.ptrace_scope is 2 (admin only); run threadlens as root "
                        "or with CAP_SYS_PTRACE\n");
    } else if (!cap && scope == 1) {
        fprintf(stderr, "kernel.yama.ptrace_scope is 1 (only a parent may trace its "
                        "children); run threadlens as root, or set it to 0 with "
                        "`sysctl kernel.yama.ptrace_scope=0`\n");
    } else {
        fprintf(stderr, "permission denied (a set-uid or otherwise non-dumpable program, or "
                        "a security module refused); run threadlens as root\n");
    }
}
