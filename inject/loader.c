/*
 * loader.c - the injection sequence. Order of work: find libc's functions in
 * the target, seize a safe thread, save its registers, mmap the block (raw
 * system call: our page does not exist yet, so nothing to return to), write
 * block and stub, mprotect the code R+X, pthread_create the loader thread,
 * pthread_detach it, restore the borrowed thread and let it go, then poll
 * the block's done flag. The pages stay mapped afterwards: the loader thread
 * may still be returning through the stub when we read done.
 */
#include "loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "proc_maps.h"
#include "ptrace_call.h"
#include "remote_mem.h"
#include "remote_sym.h"
#include "stub_layout.h"
#include "thread_pick.h"

#define RTLD_DLOPEN_FLAG 0x80000000 /* glibc's __RTLD_DLOPEN, for __libc_dlopen_mode */

extern const unsigned char tl_stub_begin[], tl_stub_end[], tl_stub_trap[], tl_stub_entry[];

/* Addresses of what the injection calls in the target. */
struct libc_funcs {
    uint64_t dlopen, dlsym, dlerror, pthreadCreate, pthreadDetach, syscallInsn;
    int dlopenFlagsExtra; /* RTLD_DLOPEN_FLAG with __libc_dlopen_mode */
};

/* One injection in progress. */
struct injection {
    const struct tl_target *pT;
    const struct tl_loader_req *pReq;
    struct tl_tracee tracee;
    struct libc_funcs fn;
    uint64_t block; /* our data block in the target, 0 before mmap */
    int started;    /* the loader thread may be running: keep the pages */
};

static int match_libc(const char *zBase)
{
    /* "libc.so.6 (deleted)" after a glibc upgrade under a running program */
    return (strncmp(zBase, "libc.so.6", 9) == 0 && (zBase[9] == '\0' || zBase[9] == ' ')) ||
           strncmp(zBase, "libc-2.", 7) == 0;
}

static int match_libpthread(const char *zBase)
{
    return strncmp(zBase, "libpthread", 10) == 0;
}

/* Print "threadlens: cannot VERB PID (PROG): " and the rest. */
static void fail_prefix(const struct injection *pI)
{
    fprintf(stderr, "threadlens: cannot %s %ld (%s): ", pI->pReq->zVerb, (long)pI->pT->pid,
            pI->pT->zName);
}

/* Find a `syscall` instruction (0f 05) in libc's syscall() function. */
static uint64_t syscall_insn_find(pid_t pid, uint64_t fn)
{
    unsigned char aCode[64];
    if (fn == 0 || tl_mem_read(pid, fn, aCode, sizeof(aCode)) != 0) {
        return 0;
    }
    for (size_t i = 0; i + 1 < sizeof(aCode); i++) {
        if (aCode[i] == 0x0f && aCode[i + 1] == 0x05) {
            return fn + i;
        }
    }
    return 0;
}

/*
 * glibc before 2.34 keeps pthread_create in libpthread and has no dlopen in
 * libc; it offers __libc_dlopen_mode / __libc_dlsym instead (no dlerror).
 * Only glibc >= 2.34 is tested here.
 */
static void old_glibc_fallbacks(pid_t pid, const struct tl_module *pLibc, struct libc_funcs *pF)
{
    if (pF->dlopen == 0) {
        static const char *const azOld[] = {"__libc_dlopen_mode", "__libc_dlsym"};
        uint64_t aAddr[2] = {0, 0};
        tl_module_syms(pid, pLibc, azOld, aAddr, 2);
        pF->dlopen = aAddr[0];
        pF->dlsym = aAddr[1];
        pF->dlerror = 0;
        pF->dlopenFlagsExtra = RTLD_DLOPEN_FLAG;
    }
    struct tl_module pthr;
    if (pF->pthreadCreate == 0 && tl_module_find(pid, match_libpthread, &pthr) == 0) {
        static const char *const azPthr[] = {"pthread_create", "pthread_detach"};
        uint64_t aAddr[2] = {0, 0};
        tl_module_syms(pid, &pthr, azPthr, aAddr, 2);
        pF->pthreadCreate = aAddr[0];
        pF->pthreadDetach = aAddr[1];
    }
}

/* Fill pI->fn from the target's libc. Returns 0, or 1 after a message. */
static int funcs_find(struct injection *pI)
{
    pid_t pid = pI->pT->pid;
    struct tl_module libc;
    if (tl_module_find(pid, match_libc, &libc) != 0) {
        fail_prefix(pI);
        fprintf(stderr, "it has no libc.so.6 mapped (statically linked, or not a glibc "
                        "program); threadlens works only with dynamically linked glibc "
                        "programs\n");
        return 1;
    }
    static const char *const azName[] = {"dlopen", "dlsym", "dlerror", "pthread_create",
                                         "pthread_detach", "syscall"};
    uint64_t aAddr[6] = {0};
    int rc = tl_module_syms(pid, &libc, azName, aAddr, 6);
    if (rc != 0) {
        fail_prefix(pI);
        fprintf(stderr, "cannot read the symbols of its %s: %s\n", libc.zPath, strerror(-rc));
        return 1;
    }
    struct libc_funcs *pF = &pI->fn;
    pF->dlopen = aAddr[0];
    pF->dlsym = aAddr[1];
    pF->dlerror = aAddr[2];
    pF->pthreadCreate = aAddr[3];
    pF->pthreadDetach = aAddr[4];
    pF->syscallInsn = syscall_insn_find(pid, aAddr[5]);
    old_glibc_fallbacks(pid, &libc, pF);
    if (pF->dlopen == 0 || pF->dlsym == 0 || pF->pthreadCreate == 0 || pF->pthreadDetach == 0 ||
        pF->syscallInsn == 0) {
        fail_prefix(pI);
        fprintf(stderr, "its %s lacks dlopen, dlsym, pthread_create or syscall (libpthread "
                        "not loaded by an old glibc?)\n", libc.zPath);
        return 1;
    }
    return 0;
}

/* Explain an error of the ptrace layer. */
static void ptrace_error(const struct injection *pI, int rc, const char *zWhy)
{
    if (rc == -EPERM) {
        tl_target_explain_eperm(pI->pT);
        return;
    }
    fail_prefix(pI);
    const struct tl_tracee *pTr = &pI->tracee;
    if (rc == TL_EGONE || rc == -ESRCH) {
        int st = pTr->wstatus;
        if (rc == TL_EGONE && WIFSIGNALED(st)) {
            fprintf(stderr, "it was killed by signal %d (%s) during the %s\n", WTERMSIG(st),
                    strsignal(WTERMSIG(st)), pI->pReq->zVerb);
        } else if (rc == TL_EGONE && WIFEXITED(st)) {
            fprintf(stderr, "it exited with status %d during the %s\n", WEXITSTATUS(st),
                    pI->pReq->zVerb);
        } else {
            fprintf(stderr, "it exited during the %s\n", pI->pReq->zVerb);
        }
    } else if (rc == -ETIMEDOUT) {
        fprintf(stderr, "thread %ld did not answer within %d s (stuck in the kernel?); try "
                        "again later\n", (long)pTr->tid, TL_PTRACE_WAIT_MS / 1000);
    } else if (rc == TL_EBUSY) {
        fprintf(stderr, "every thread stayed busy in %s; try again\n", zWhy);
    } else if (rc == TL_ECRASH) {
        fprintf(stderr, "%s, called in thread %ld, faulted (%s at %#llx); the thread was "
                        "put back as it was\n", zWhy, (long)pTr->tid, strsignal(pTr->faultSig),
                (unsigned long long)pTr->faultIp);
    } else {
        fprintf(stderr, "ptrace failed on thread %ld: %s\n", (long)pTr->tid, strerror(-rc));
    }
}

/* Explain a system call or libc call that failed in the target with err. */
static void call_error(const struct injection *pI, const char *zCall, int err)
{
    fail_prefix(pI);
    fprintf(stderr, "%s failed in the target: %s", zCall, strerror(err));
    if (pI->pT->seccomp == 2 && (err == EPERM || err == ENOSYS || err == EACCES)) {
        fprintf(stderr, " (blocked by its seccomp filter; threadlens cannot attach to it, "
                        "start it under `threadlens run` instead)");
    }
    fputc('\n', stderr);
}

/* A raw system call in the target. Returns 0 with *pRet, 1 after a message. */
static int remote_syscall(struct injection *pI, const char *zName, long nr, const uint64_t *aArg,
                          int64_t *pRet)
{
    int rc = tl_tracee_syscall(&pI->tracee, pI->fn.syscallInsn, nr, aArg, pRet);
    if (rc != 0) {
        ptrace_error(pI, rc, zName);
        return 1;
    }
    if (*pRet < 0 && *pRet > -4096) {
        call_error(pI, zName, (int)-*pRet);
        return 1;
    }
    return 0;
}

/* The block's initial contents. Returns 0, or 1 after a message (too long). */
static int block_build(const struct injection *pI, unsigned char *aBlk)
{
    const struct tl_loader_req *pReq = pI->pReq;
    memset(aBlk, 0, TL_BLK_SIZE);
    uint64_t aHead[4] = {pI->fn.dlopen, pI->fn.dlsym, pI->fn.dlerror,
                         (uint64_t)(RTLD_NOW | (pReq->noLoad ? RTLD_NOLOAD : 0) |
                                    pI->fn.dlopenFlagsExtra)};
    memcpy(aBlk, aHead, sizeof(aHead));
    if (strlen(pReq->zEntry) >= TL_BLK_PATH - TL_BLK_NAME ||
        strlen(pReq->zLib) >= TL_BLK_OPTIONS - TL_BLK_PATH ||
        strlen(pReq->zArg) >= TL_BLK_OPTIONS_MAX) {
        fail_prefix(pI);
        fprintf(stderr, "the agent path or the options are too long\n");
        return 1;
    }
    strcpy((char *)aBlk + TL_BLK_NAME, pReq->zEntry);
    strcpy((char *)aBlk + TL_BLK_PATH, pReq->zLib);
    strcpy((char *)aBlk + TL_BLK_OPTIONS, pReq->zArg);
    return 0;
}

/* Map, fill and protect block and stub. Returns 0 or 1 after a message. */
static int pages_install(struct injection *pI)
{
    static unsigned char aBlk[TL_BLK_SIZE];
    if (block_build(pI, aBlk) != 0) {
        return 1;
    }
    int64_t ret = 0;
    uint64_t aMmap[6] = {0, TL_BLK_SIZE + TL_CODE_SIZE, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0};
    if (remote_syscall(pI, "mmap", SYS_mmap, aMmap, &ret) != 0) {
        return 1;
    }
    pI->block = (uint64_t)ret;
    uint64_t code = pI->block + TL_BLK_SIZE;
    size_t nStub = (size_t)(tl_stub_end - tl_stub_begin);
    int rc = tl_mem_write(pI->pT->pid, pI->block, aBlk, TL_BLK_SIZE);
    if (rc == 0) {
        rc = tl_mem_write(pI->pT->pid, code, tl_stub_begin, nStub);
    }
    if (rc != 0) {
        fail_prefix(pI);
        fprintf(stderr, "cannot write its memory: %s\n", strerror(-rc));
        return 1;
    }
    uint64_t aProt[6] = {code, TL_CODE_SIZE, PROT_READ | PROT_EXEC, 0, 0, 0};
    if (remote_syscall(pI, "mprotect", SYS_mprotect, aProt, &ret) != 0) {
        return 1;
    }
    pI->tracee.trap = code + (uint64_t)(tl_stub_trap - tl_stub_begin);
    return 0;
}

/* A libc call in the target. Returns 0 with *pRet, 1 after a message. */
static int remote_call(struct injection *pI, const char *zName, uint64_t fn, const uint64_t *aArg,
                       uint64_t *pRet)
{
    int rc = tl_tracee_call(&pI->tracee, fn, aArg, pRet);
    if (rc != 0) {
        ptrace_error(pI, rc, zName);
        return 1;
    }
    return 0;
}

/* Start the loader thread on the stub. Returns 0 or 1 after a message. */
static int loader_thread_start(struct injection *pI)
{
    uint64_t entry = pI->block + TL_BLK_SIZE + (uint64_t)(tl_stub_entry - tl_stub_begin);
    uint64_t aCreate[6] = {pI->block + TL_BLK_TID, 0, entry, pI->block, 0, 0};
    uint64_t ret = 0;
    pI->started = 1;
    if (remote_call(pI, "pthread_create", pI->fn.pthreadCreate, aCreate, &ret) != 0) {
        return 1;
    }
    if ((int)ret != 0) {
        pI->started = 0;
        call_error(pI, "pthread_create", (int)ret);
        return 1;
    }
    uint64_t tid = 0;
    int rc = tl_mem_read(pI->pT->pid, pI->block + TL_BLK_TID, &tid, sizeof(tid));
    uint64_t aDetach[6] = {tid, 0, 0, 0, 0, 0};
    if (rc == 0) {
        remote_call(pI, "pthread_detach", pI->fn.pthreadDetach, aDetach, &ret); /* a leak at worst */
    }
    return 0;
}

/*
 * Borrow a thread, install the pages and start the loader thread, then give
 * the thread back. Returns 0 when the loader thread runs, 1 after a message.
 */
static int inject(struct injection *pI)
{
    char zWhy[300];
    int rc = tl_thread_pick(pI->pT->pid, &pI->tracee, zWhy, sizeof(zWhy));
    if (rc != 0) {
        ptrace_error(pI, rc, zWhy);
        return 1;
    }
    rc = tl_tracee_save(&pI->tracee);
    if (rc != 0) {
        ptrace_error(pI, rc, "");
        tl_tracee_release(&pI->tracee);
        tl_tracee_free(&pI->tracee);
        return 1;
    }
    int failed = pages_install(pI) != 0 || loader_thread_start(pI) != 0;
    if (failed && pI->block != 0 && !pI->started) {
        uint64_t aUnmap[6] = {pI->block, TL_BLK_SIZE + TL_CODE_SIZE, 0, 0, 0, 0};
        int64_t ret;
        tl_tracee_syscall(&pI->tracee, pI->fn.syscallInsn, SYS_munmap, aUnmap, &ret);
    }
    rc = tl_tracee_restore(&pI->tracee);
    if (rc != 0 && rc != TL_EGONE && rc != -ESRCH) {
        fprintf(stderr, "threadlens: could not put thread %ld back as it was: %s\n",
                (long)pI->tracee.tid, strerror(-rc));
        failed = 1;
    }
    tl_tracee_free(&pI->tracee);
    return failed;
}

/* Whether the process is still there (and not a zombie). */
static int target_alive(pid_t pid)
{
    struct tl_target t;
    return tl_target_read(pid, &t) == 0 && t.state != 'Z' && t.state != 'X';
}

/* Poll the done flag. Returns 0 with pOut filled, 1 after a message. */
static int stub_wait(struct injection *pI, struct tl_loader_out *pOut)
{
    pid_t pid = pI->pT->pid;
    for (int waited = 0; waited <= TL_LOADER_DONE_MS; waited += 10) {
        uint64_t aWord[2];
        int rc = tl_mem_read(pid, pI->block + TL_BLK_RESULT, aWord, sizeof(aWord));
        if (rc == 0 && aWord[1] != 0) {
            pOut->result = (int64_t)aWord[0];
            tl_mem_read(pid, pI->block + TL_BLK_ERRTEXT, pOut->zError, sizeof(pOut->zError));
            pOut->zError[sizeof(pOut->zError) - 1] = '\0';
            return 0;
        }
        if (rc != 0 || !target_alive(pid)) {
            fail_prefix(pI);
            fprintf(stderr, "it exited while the agent was loading\n");
            return 1;
        }
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    fail_prefix(pI);
    fprintf(stderr, "the agent did not finish loading within %d s; the target may be stuck "
                    "(look at its stderr, or at `threadlens-top` once it answers)\n",
            TL_LOADER_DONE_MS / 1000);
    return 1;
}

/*
 * Load pReq->zLib into process pT and call pReq->zEntry(pReq->zArg) there.
 * Returns 0 when the stub finished (see pOut->result), 1 after printing why
 * not.
 */
int tl_loader_run(const struct tl_target *pT, const struct tl_loader_req *pReq,
                  struct tl_loader_out *pOut)
{
    struct injection inj = {.pT = pT, .pReq = pReq, .block = 0};
    memset(pOut, 0, sizeof(*pOut));
    if (funcs_find(&inj) != 0 || inject(&inj) != 0) {
        return 1;
    }
    return stub_wait(&inj, pOut);
}
