/*
 * ptrace_call.c - remote system calls and function calls through one seized
 * thread (x86-64).
 *
 * Stops: the thread is seized with PTRACE_O_TRACESYSGOOD and stopped with
 * PTRACE_INTERRUPT. A function call returns to an int3 (SIGTRAP); a raw
 * system call runs between two PTRACE_SYSCALL stops. Any other signal that
 * arrives meanwhile is suppressed, remembered and re-delivered on detach, so
 * no handler runs on a borrowed frame.
 *
 * Interrupted system calls: registers are restored only from a stop inside
 * signal delivery (the interrupt stop or an int3's SIGTRAP); from there the
 * kernel's restart logic sees the original orig_rax and rax and restarts
 * (nanosleep, futex, read...) as if nothing happened. Every call we make sets
 * orig_rax = -1, so the interrupted call is never restarted into our code.
 * After a raw system call the thread sits in a syscall-exit stop, where no
 * restart happens; restore first re-enters signal delivery (interrupt, then
 * continue: the trap fires before any user instruction runs).
 */
#include "ptrace_call.h"

#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "remote_mem.h"

#define RED_ZONE 128       /* the System V ABI's red zone below rsp */
#define SCRATCH 512        /* extra room below it, for good measure */
#define XSTATE_MAX 65536   /* larger than any xsave area the kernel reports */
#define EFLAGS_DF 0x400

static long monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/*
 * Wait until the thread stops, polling with short sleeps for at most
 * TL_PTRACE_WAIT_MS. Returns 0 with the status in *pStatus, TL_EGONE (with
 * p->wstatus) when it exited or was killed, -ETIMEDOUT, or -errno.
 */
static int wait_stop(struct tl_tracee *p, int *pStatus)
{
    long deadline = monotonic_ms() + TL_PTRACE_WAIT_MS;
    long sleepUs = 100;
    while (1) {
        int st = 0;
        pid_t r = waitpid(p->tid, &st, __WALL | WNOHANG);
        if (r == p->tid && WIFSTOPPED(st)) {
            *pStatus = st;
            return 0;
        }
        if (r == p->tid || (r < 0 && errno == ECHILD)) {
            p->wstatus = r == p->tid ? st : 0;
            return TL_EGONE;
        }
        if (r < 0 && errno != EINTR) {
            return -errno;
        }
        if (monotonic_ms() > deadline) {
            return -ETIMEDOUT;
        }
        struct timespec ts = {0, sleepUs * 1000};
        nanosleep(&ts, NULL);
        sleepUs = sleepUs < 10000 ? sleepUs * 2 : 10000;
    }
}

/* Remember a signal that arrived while we held the thread. */
static void sig_remember(struct tl_tracee *p, int sig)
{
    if (p->nSig < TL_PTRACE_MAX_SIGS) {
        p->aSig[p->nSig++] = sig;
    }
}

static int is_event_stop(int status)
{
    return (status >> 16) != 0;
}

/*
 * Seize thread tid of process pid and stop it. Returns 0 when it is stopped
 * (p owns nothing yet), -EPERM / -ESRCH / -errno when it cannot be seized,
 * TL_EGONE, or -ETIMEDOUT when it did not stop (it is released when this
 * process exits, since a running tracee cannot be detached).
 */
int tl_tracee_seize(struct tl_tracee *p, pid_t pid, pid_t tid)
{
    memset(p, 0, sizeof(*p));
    p->pid = pid;
    p->tid = tid;
    if (ptrace(PTRACE_SEIZE, tid, 0, (void *)(long)PTRACE_O_TRACESYSGOOD) != 0) {
        return -errno;
    }
    if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) != 0) {
        return -errno;
    }
    while (1) {
        int status;
        int rc = wait_stop(p, &status);
        if (rc != 0) {
            return rc;
        }
        if (is_event_stop(status)) {
            return 0;
        }
        /* A signal-delivery stop came first; the interrupt follows it. */
        sig_remember(p, WSTOPSIG(status));
        if (ptrace(PTRACE_CONT, tid, 0, 0) != 0) {
            return -errno;
        }
    }
}

/* Save the FPU/vector state: the whole xsave area, else the legacy FP area. */
static int xstate_save(struct tl_tracee *p)
{
    p->pXstate = malloc(XSTATE_MAX);
    if (p->pXstate == NULL) {
        return -ENOMEM;
    }
    struct iovec iov = {.iov_base = p->pXstate, .iov_len = XSTATE_MAX};
    if (ptrace(PTRACE_GETREGSET, p->tid, (void *)NT_X86_XSTATE, &iov) == 0) {
        p->xstateNote = NT_X86_XSTATE;
    } else {
        iov.iov_len = sizeof(struct user_fpregs_struct);
        if (ptrace(PTRACE_GETREGSET, p->tid, (void *)NT_PRFPREG, &iov) != 0) {
            return -errno;
        }
        p->xstateNote = NT_PRFPREG;
    }
    p->nXstate = iov.iov_len;
    return 0;
}

/* Save all registers of the stopped thread. Returns 0 or -errno. */
int tl_tracee_save(struct tl_tracee *p)
{
    if (ptrace(PTRACE_GETREGS, p->tid, 0, &p->saved) != 0) {
        return -errno;
    }
    return xstate_save(p);
}

/* Registers for running our code: the saved ones, no syscall to restart. */
static struct user_regs_struct regs_for_us(const struct tl_tracee *p)
{
    struct user_regs_struct r = p->saved;
    r.orig_rax = (unsigned long long)-1;
    r.eflags &= ~(unsigned long long)EFLAGS_DF; /* the ABI wants DF clear at a call */
    r.rax = 0;
    return r;
}

/*
 * Handle a stop that is not the one we wait for: remember a signal, or
 * report our own call faulting. Returns 0 to go on, TL_ECRASH.
 */
static int stop_foreign(struct tl_tracee *p, int status)
{
    if (is_event_stop(status)) {
        return 0;
    }
    int sig = WSTOPSIG(status) & 0x7f;
    siginfo_t si;
    int sync = (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE) &&
               ptrace(PTRACE_GETSIGINFO, p->tid, 0, &si) == 0 && si.si_code > 0;
    if (sync) {
        struct user_regs_struct r;
        p->faultSig = sig; /* raised by our call's own instructions */
        p->faultIp = ptrace(PTRACE_GETREGS, p->tid, 0, &r) == 0 ? r.rip : 0;
        return TL_ECRASH;
    }
    if ((WSTOPSIG(status) & 0x80) == 0) {
        sig_remember(p, sig);
    }
    return 0;
}

/*
 * Resume with request (PTRACE_CONT or PTRACE_SYSCALL) until a stop that
 * xWanted accepts, within one overall deadline. Returns 0, TL_EGONE,
 * TL_ECRASH, -ETIMEDOUT or -errno.
 */
static int run_until(struct tl_tracee *p, int request, int (*xWanted)(struct tl_tracee *, int))
{
    long deadline = monotonic_ms() + TL_PTRACE_WAIT_MS;
    while (1) {
        if (ptrace(request, p->tid, 0, 0) != 0) {
            return -errno;
        }
        int status;
        int rc = wait_stop(p, &status);
        if (rc != 0) {
            return rc;
        }
        if (xWanted(p, status)) {
            return 0;
        }
        rc = stop_foreign(p, status);
        if (rc != 0) {
            return rc;
        }
        if (monotonic_ms() > deadline) {
            return -ETIMEDOUT;
        }
    }
}

static int is_syscall_stop(struct tl_tracee *p, int status)
{
    (void)p;
    return !is_event_stop(status) && WSTOPSIG(status) == (SIGTRAP | 0x80);
}

/* Our int3: SIGTRAP with rip just past the trap byte. */
static int is_trap_stop(struct tl_tracee *p, int status)
{
    struct user_regs_struct r;
    return !is_event_stop(status) && WSTOPSIG(status) == SIGTRAP &&
           ptrace(PTRACE_GETREGS, p->tid, 0, &r) == 0 && r.rip == p->trap + 1;
}

static int is_interrupt_stop(struct tl_tracee *p, int status)
{
    (void)p;
    return is_event_stop(status) && (status >> 16) == PTRACE_EVENT_STOP;
}

/*
 * Make the thread execute system call nr with up to six arguments, through
 * the `syscall` instruction at insn (any one in the target's code). Returns
 * 0 with the raw result (-errno on failure) in *pRet, or a negative error.
 */
int tl_tracee_syscall(struct tl_tracee *p, uint64_t insn, long nr, const uint64_t *aArg,
                      int64_t *pRet)
{
    struct user_regs_struct r = regs_for_us(p);
    r.rip = insn;
    r.rax = (unsigned long long)nr;
    r.rdi = aArg[0];
    r.rsi = aArg[1];
    r.rdx = aArg[2];
    r.r10 = aArg[3];
    r.r8 = aArg[4];
    r.r9 = aArg[5];
    if (ptrace(PTRACE_SETREGS, p->tid, 0, &r) != 0) {
        return -errno;
    }
    p->inSyscallStop = 1;
    int rc = run_until(p, PTRACE_SYSCALL, is_syscall_stop); /* entry */
    if (rc == 0) {
        rc = run_until(p, PTRACE_SYSCALL, is_syscall_stop); /* exit */
    }
    if (rc == 0 && ptrace(PTRACE_GETREGS, p->tid, 0, &r) != 0) {
        rc = -errno;
    }
    if (rc == 0) {
        *pRet = (int64_t)r.rax;
    }
    return rc;
}

/*
 * Call the function at fn with up to six integer arguments; it returns to
 * p->trap, which must be set. The frame is built below the red zone of the
 * thread's own stack, 16-byte aligned before the return address is pushed.
 * Returns 0 with rax in *pRet, or a negative error.
 */
int tl_tracee_call(struct tl_tracee *p, uint64_t fn, const uint64_t *aArg, uint64_t *pRet)
{
    struct user_regs_struct r = regs_for_us(p);
    uint64_t sp = ((p->saved.rsp - RED_ZONE - SCRATCH) & ~(uint64_t)15) - 8;
    uint64_t ret = p->trap;
    int rc = tl_mem_write(p->pid, sp, &ret, sizeof(ret));
    if (rc != 0) {
        return rc;
    }
    r.rsp = sp;
    r.rip = fn;
    r.rdi = aArg[0];
    r.rsi = aArg[1];
    r.rdx = aArg[2];
    r.rcx = aArg[3];
    r.r8 = aArg[4];
    r.r9 = aArg[5];
    if (ptrace(PTRACE_SETREGS, p->tid, 0, &r) != 0) {
        return -errno;
    }
    p->inSyscallStop = 0;
    rc = run_until(p, PTRACE_CONT, is_trap_stop);
    if (rc == 0 && ptrace(PTRACE_GETREGS, p->tid, 0, &r) != 0) {
        rc = -errno;
    }
    if (rc == 0) {
        *pRet = r.rax;
    }
    return rc;
}

/* From a syscall stop, get back into signal delivery (see the file comment). */
static int back_to_signal_stop(struct tl_tracee *p)
{
    if (ptrace(PTRACE_SETREGS, p->tid, 0, &p->saved) != 0) {
        return -errno;
    }
    if (ptrace(PTRACE_INTERRUPT, p->tid, 0, 0) != 0) {
        return -errno;
    }
    int rc = run_until(p, PTRACE_CONT, is_interrupt_stop);
    if (rc == 0) {
        p->inSyscallStop = 0;
    }
    return rc;
}

/* Detach, delivering the first remembered signal; send the others again. */
static int detach_with_signals(struct tl_tracee *p)
{
    int sig = p->nSig > 0 ? p->aSig[0] : 0;
    if (ptrace(PTRACE_DETACH, p->tid, 0, (void *)(long)sig) != 0) {
        return -errno;
    }
    for (int i = 1; i < p->nSig; i++) {
        syscall(SYS_tgkill, p->pid, p->tid, p->aSig[i]);
    }
    return 0;
}

/*
 * Put back every saved register and let the thread go on where it was.
 * Returns 0, or a negative error (the thread is released when this process
 * exits in any case).
 */
int tl_tracee_restore(struct tl_tracee *p)
{
    int rc = p->inSyscallStop ? back_to_signal_stop(p) : 0;
    if (rc == 0 && ptrace(PTRACE_SETREGS, p->tid, 0, &p->saved) != 0) {
        rc = -errno;
    }
    if (rc == 0 && p->xstateNote != 0) {
        struct iovec iov = {.iov_base = p->pXstate, .iov_len = p->nXstate};
        if (ptrace(PTRACE_SETREGSET, p->tid, (void *)(long)p->xstateNote, &iov) != 0) {
            rc = -errno;
        }
    }
    if (rc == 0) {
        rc = detach_with_signals(p);
    }
    return rc;
}

/* Let a thread go that was seized and stopped but not changed. */
int tl_tracee_release(struct tl_tracee *p)
{
    return detach_with_signals(p);
}

/* Free what p owns. Can't fail. */
void tl_tracee_free(struct tl_tracee *p)
{
    free(p->pXstate);
    p->pXstate = NULL;
}
