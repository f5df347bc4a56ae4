/*
 * idle_inverter.c - a program to attach to: it prints "waiting", then idles
 * in nanosleep (so the attach interrupts and must restart a system call)
 * until SIGUSR1, when it takes locks A->B in one thread and B->A in another,
 * one after the other (an inversion, never a deadlock), prints what it did
 * and exits 0. SIGTERM, or 60 s without a signal, ends it with status 0
 * too. Any failed wait is printed and exits 3, so a broken restart shows.
 * Built with -DIDLE_DENY_EXEC it first installs a seccomp filter that fails
 * mprotect(..., PROT_EXEC) with EPERM, as a sandboxed server might.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#ifdef IDLE_DENY_EXEC
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#define IDLE_LIMIT_S 60

static pthread_mutex_t lockA = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lockB = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t lastSignal;
static int counter; /* under lockA and lockB */

static void on_signal(int sig)
{
    lastSignal = sig;
}

static void *take_in_order(void *pArg)
{
    int reversed = pArg != NULL;
    pthread_mutex_t *pFirst = reversed ? &lockB : &lockA;
    pthread_mutex_t *pSecond = reversed ? &lockA : &lockB;
    pthread_mutex_lock(pFirst);
    pthread_mutex_lock(pSecond);
    counter++;
    pthread_mutex_unlock(pSecond);
    pthread_mutex_unlock(pFirst);
    return NULL;
}

static void run_thread(int reversed)
{
    pthread_t t;
    pthread_create(&t, NULL, take_in_order, reversed ? &lockB : NULL);
    pthread_join(t, NULL);
    printf("order %s done\n", reversed ? "B->A" : "A->B");
}

/* Sleep in 1 s steps until a signal arrives or the limit passes. Returns 0 or 3. */
static int idle(void)
{
    for (int s = 0; s < IDLE_LIMIT_S && lastSignal == 0; s++) {
        struct timespec ts = {1, 0};
        if (nanosleep(&ts, NULL) != 0 && errno != EINTR) {
            printf("nanosleep failed: %s\n", strerror(errno));
            return 3;
        }
    }
    return 0;
}

#ifdef IDLE_DENY_EXEC
/* mprotect with PROT_EXEC fails with EPERM; everything else is allowed. */
static void deny_exec(void)
{
    struct sock_filter aCode[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mprotect, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof(aCode) / sizeof(aCode[0]), .filter = aCode};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
        perror("seccomp");
    }
}
#endif

int main(void)
{
#ifdef IDLE_DENY_EXEC
    deny_exec();
#endif
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    printf("waiting\n");
    fflush(stdout);
    int rc = idle();
    if (rc == 0 && lastSignal == SIGUSR1) {
        run_thread(0);
        run_thread(1);
        printf("counter %d\n", counter);
    }
    return rc;
}
