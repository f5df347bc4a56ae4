/*
 * ptrace_call.h - borrow one thread of another process (x86-64): seize and
 * stop it, save every register (general and xstate), make it run raw system
 * calls and function calls for us, then put everything back and let it go.
 * Only the seized thread stops; the others keep running. Every wait is
 * bounded (TL_PTRACE_WAIT_MS). Used from the tool's only thread; a struct
 * tl_tracee is owned by its caller.
 */
#ifndef TL_PTRACE_CALL_H
#define TL_PTRACE_CALL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#define TL_PTRACE_WAIT_MS 5000 /* longest wait for any one stop */
#define TL_PTRACE_MAX_SIGS 8

#define TL_EGONE (-20001)  /* the thread exited or was killed; wstatus says how */
#define TL_ECRASH (-20002) /* a remote call faulted; fault_sig says which signal */

/* One borrowed thread. */
struct tl_tracee {
    pid_t pid;                      /* thread group */
    pid_t tid;                      /* the seized thread */
    int inSyscallStop;              /* stopped at a syscall stop, not in signal delivery */
    int xstateNote;                 /* NT_X86_XSTATE, NT_PRFPREG, or 0: none saved */
    struct user_regs_struct saved;  /* general registers at the interrupt */
    void *pXstate;                  /* saved FPU/vector state (malloc'ed) */
    size_t nXstate;
    uint64_t trap;                  /* an int3 in the target that calls return to */
    int aSig[TL_PTRACE_MAX_SIGS];   /* signals that arrived meanwhile, to re-deliver */
    int nSig;
    int wstatus;                    /* waitpid status after TL_EGONE */
    int faultSig;                   /* the signal after TL_ECRASH */
    uint64_t faultIp;               /* where it was raised */
};

int tl_tracee_seize(struct tl_tracee *p, pid_t pid, pid_t tid);
int tl_tracee_save(struct tl_tracee *p);
int tl_tracee_syscall(struct tl_tracee *p, uint64_t insn, long nr, const uint64_t *aArg,
                      int64_t *pRet);
int tl_tracee_call(struct tl_tracee *p, uint64_t fn, const uint64_t *aArg, uint64_t *pRet);
int tl_tracee_restore(struct tl_tracee *p);
int tl_tracee_release(struct tl_tracee *p);
void tl_tracee_free(struct tl_tracee *p);

#endif
