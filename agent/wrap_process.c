/*
 * wrap_process.c - interposers for the process's life: __libc_start_main
 * (to see main's return value), exit, _exit, and the exec family (execve,
 * execv, execvp, execvpe, execl, execlp, execle, fexecve). Each way out of
 * the process image flushes the database first; an exec'd image that
 * inherits LD_PRELOAD appends its own process row to the same database.
 * fork is followed through pthread_atfork (agent.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "agent.h"
#include "collector.h"
#include "export.h"
#include "real.h"

static tl_main_fn real_main;

static int main_wrapper(int argc, char **argv, char **envp)
{
    int status = real_main(argc, argv, envp);
    tl_agent_set_exit_status(status);
    return status;
}

TL_EXPORT int __libc_start_main(tl_main_fn main, int argc, char **argv, void (*init)(void),
                                void (*fini)(void), void (*rtld_fini)(void), void *stack_end)
{
    real_main = main;
    return TL_REAL(libc_start_main)(main_wrapper, argc, argv, init, fini, rtld_fini, stack_end);
}

TL_EXPORT void exit(int status)
{
    tl_agent_set_exit_status(status);
    TL_REAL(exit)(status);
    __builtin_unreachable();
}

TL_EXPORT void _exit(int status)
{
    tl_collector_finish(status & 0xff, "exit");
    TL_REAL(_exit)(status);
    __builtin_unreachable();
}

static int exec_done(int rc)
{
    tl_collector_exec_failed();
    return rc;
}

TL_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    tl_collector_flush_for_exec();
    return exec_done(TL_REAL(execve)(path, argv, envp));
}

TL_EXPORT int execv(const char *path, char *const argv[])
{
    tl_collector_flush_for_exec();
    return exec_done(TL_REAL(execv)(path, argv));
}

TL_EXPORT int execvp(const char *file, char *const argv[])
{
    tl_collector_flush_for_exec();
    return exec_done(TL_REAL(execvp)(file, argv));
}

TL_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    tl_collector_flush_for_exec();
    return exec_done(TL_REAL(execvpe)(file, argv, envp));
}

TL_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    tl_collector_flush_for_exec();
    return exec_done(TL_REAL(fexecve)(fd, argv, envp));
}

#define MAX_EXEC_ARGS 4096

/*
 * Collects execl-style arguments up to the terminating NULL into argv, and
 * the envp after it when asked. Returns argv, or NULL (errno E2BIG) when
 * there are more than MAX_EXEC_ARGS.
 */
static char **collect_args(char **argv, const char *arg0, va_list ap, char ***envp)
{
    int n = 0;
    argv[n++] = (char *)arg0;
    while (arg0 && n < MAX_EXEC_ARGS) {
        char *a = va_arg(ap, char *);
        argv[n++] = a;
        if (!a)
            break;
    }
    if (n == MAX_EXEC_ARGS) {
        errno = E2BIG;
        return NULL;
    }
    if (envp)
        *envp = va_arg(ap, char **);
    return argv;
}

TL_EXPORT int execl(const char *path, const char *arg, ...)
{
    char *argv[MAX_EXEC_ARGS];
    va_list ap;
    va_start(ap, arg);
    char **args = collect_args(argv, arg, ap, NULL);
    va_end(ap);
    return args ? execv(path, args) : -1;
}

TL_EXPORT int execlp(const char *file, const char *arg, ...)
{
    char *argv[MAX_EXEC_ARGS];
    va_list ap;
    va_start(ap, arg);
    char **args = collect_args(argv, arg, ap, NULL);
    va_end(ap);
    return args ? execvp(file, args) : -1;
}

TL_EXPORT int execle(const char *path, const char *arg, ...)
{
    char *argv[MAX_EXEC_ARGS];
    char **envp = NULL;
    va_list ap;
    va_start(ap, arg);
    char **args = collect_args(argv, arg, ap, &envp);
    va_end(ap);
    return args ? execve(path, args, envp) : -1;
}
