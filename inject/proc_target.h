/*
 * proc_target.h - what /proc says about a process before we touch it: its
 * name, owner, state, tracer and seccomp mode, and why ptrace may be refused
 * (Yama ptrace_scope, another user, CAP_SYS_PTRACE). Used by `attach` and
 * `detach` from the tool's only thread; no state.
 */
#ifndef TL_PROC_TARGET_H
#define TL_PROC_TARGET_H

#include <limits.h>
#include <sys/types.h>

/* One target process. */
struct tl_target {
    pid_t pid;
    char zExe[PATH_MAX]; /* its executable, or "" when unreadable */
    char zName[256];     /* base name of zExe, else its comm */
    long tgid;           /* its thread group; != pid when pid is a thread */
    char state;          /* 'R', 'S', 'T' (stopped), 'Z'... from status */
    long uid;            /* real uid */
    long tracerPid;      /* 0 when not traced */
    int seccomp;         /* 0 none, 1 strict, 2 filter */
};

int tl_target_read(pid_t pid, struct tl_target *p);
void tl_target_explain_eperm(const struct tl_target *p);

#endif
