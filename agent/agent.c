/* agent.c - the agent's constructor, destructor and fork handlers (see agent.h). */
#include "agent.h"

#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "clock.h"
#include "collector.h"
#include "detect_lock_order.h"
#include "detect_deadlock.h"
#include "detect_misuse.h"
#include "heap.h"
#include "detect_limits.h"
#include "detect_growth.h"
#include "task.h"
#include "lockgraph.h"
#include "lockmap.h"
#include "lockops.h"
#include "log.h"
#include "options.h"
#include "procstat.h"
#include "publish.h"
#include "real.h"
#include "stack.h"
#include "store.h"
#include "signals.h"
#include "symbols.h"
#include "thread.h"
#include "wait.h"

#define LOCKMAP_ORDER 21 /* 2M slots: addresses of every lock ever seen */
#define GRAPH_ORDER 20   /* 1M edge slots */

void tl_wrap_thread_after_fork_child(void);

static int exit_status = -1; /* main's return or exit()'s argument, -1 unknown */

void tl_agent_set_exit_status(int status)
{
    exit_status = status & 0xff;
}

/*
 * The loaded segment containing data[0] becomes [data[0], data[1]): our own
 * text (stacks leave the agent out) or libc's (the insides of a blocking call).
 */
static int find_text_segment(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    uintptr_t *range = data, here = range[0];
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && here >= lo && here < lo + ph->p_memsz) {
            range[0] = lo;
            range[1] = lo + ph->p_memsz;
            return 1;
        }
    }
    return 0;
}

/* A /proc file as one line of text. */
static void read_file(const char *path, char *buf, size_t size)
{
    ssize_t n = tl_procfs_read(path, buf, size);
    for (ssize_t i = 0; i < n - 1; i++)
        if (buf[i] == '\0')
            buf[i] = ' '; /* cmdline: NUL-separated arguments */
    size_t len = strlen(buf);
    if (len && buf[len - 1] == '\n')
        buf[len - 1] = '\0';
}

static void default_db_path(char *out, size_t size)
{
    char comm[64];
    read_file("/proc/self/comm", comm, sizeof comm);
    snprintf(out, size, "threadlens-%s-%d.db", comm[0] ? comm : "prog", (int)getpid());
}

static void fork_prepare(void)
{
    tl_collector_fork_prepare();
    tl_graph_fork_prepare();
    tl_thread_fork_prepare();
    tl_misuse_fork_prepare();
    tl_stack_fork_prepare();
    tl_arena_fork_prepare();
}

static void fork_parent(void)
{
    tl_arena_fork_parent();
    tl_stack_fork_parent();
    tl_misuse_fork_parent();
    tl_thread_fork_parent();
    tl_graph_fork_parent();
}

/* The child has one thread and the parent's memory: start a fresh agent state from it. */
static void fork_child(void)
{
    tl_arena_after_fork_child();
    tl_stack_after_fork_child();
    tl_misuse_after_fork_child();
    tl_graph_after_fork_child();
    tl_wrap_thread_after_fork_child();
    tl_publish_reset();
    tl_lockmap_after_fork_child();
    tl_lock_order_after_fork_child();
    tl_deadlock_after_fork_child();
    tl_heap_after_fork_child();
    tl_limits_after_fork_child();
    tl_growth_after_fork_child();
    tl_task_after_fork_child();
    tl_collector_after_fork_child();
    tl_thread_after_fork_child();
    if (tl_self)
        tl_lockops_after_fork_child(tl_self);
    tl_symbols_tick(); /* the parent's module list, rescanned when an address misses it */
    exit_status = -1;
}

static int init_tables(void)
{
    uintptr_t range[2] = {(uintptr_t)&find_text_segment, 0};
    dl_iterate_phdr(find_text_segment, range);
    tl_stack_init(tl_options.stacks, range[0], range[1]);
    uintptr_t data[2] = {(uintptr_t)&tl_options, 0}; /* our .data and .bss */
    if (dl_iterate_phdr(find_text_segment, data))
        tl_region_set_static(data[0], data[1]);
    if (tl_thread_init() < 0 || tl_lockmap_init(LOCKMAP_ORDER) < 0 ||
        tl_graph_init(GRAPH_ORDER) < 0 || tl_heap_init(tl_options.sample_bytes) < 0)
        return -1;
    return 0;
}

/* The process's own start time (/proc/self/stat field 22, in clock ticks since boot). */
static int64_t process_start_ns(void)
{
    char stat[1024], boot[4096];
    read_file("/proc/self/stat", stat, sizeof stat);
    read_file("/proc/stat", boot, sizeof boot);
    const char *after_comm = strrchr(stat, ')');
    const char *btime = strstr(boot, "btime ");
    unsigned long long ticks = 0;
    if (!after_comm || !btime ||
        sscanf(after_comm + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
                               "%*d %*d %*d %*d %llu", &ticks) != 1)
        return tl_now_ns();
    long hz = sysconf(_SC_CLK_TCK);
    return (int64_t)strtoll(btime + 6, NULL, 10) * 1000000000 +
           (int64_t)(ticks * (1000000000ULL / (unsigned long long)(hz > 0 ? hz : 100)));
}


int tl_agent_start(int64_t attach_ns)
{
    tl_log_set_level(tl_options.log);
    if (tl_real_init() < 0)
        return -1;
    if (init_tables() < 0) {
        tl_log(TL_LOG_ERROR, "cannot allocate the agent's tables; running without threadlens");
        return -1;
    }
    if (!tl_options.db[0])
        default_db_path(tl_options.db, sizeof tl_options.db);
    static char exe[PATH_MAX], cmdline[1024];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    tl_symbols_set_exe(exe);
    read_file("/proc/self/cmdline", cmdline, sizeof cmdline);
    struct tl_process_info info = {.pid = getpid(), .ppid = getppid(), .exe = exe,
                                   .cmdline = cmdline,
                                   .start_ns = attach_ns ? process_start_ns() : tl_now_ns(),
                                   .attach_ns = attach_ns};
    if (tl_collector_start(tl_options.db, &info, !attach_ns) < 0) {
        tl_log(TL_LOG_ERROR, "cannot record to %s (%s); running without threadlens",
               tl_options.db, tl_store_error());
        return -1;
    }
    /* After an attach the threads that existed before are unknown: never "all exited". */
    if (!attach_ns) {
        tl_thread_set_all_exited_hook(tl_collector_all_threads_exited);
        struct tl_thread *main_thread = tl_thread_register(0, NULL, 0);
        if (main_thread)
            tl_thread_name_from_kernel(main_thread);
    }
    tl_growth_set_namer(tl_store_stack_function);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    uintptr_t libc_text[2] = {(uintptr_t)tl_real.mutex_lock, 0};
    dl_iterate_phdr(find_text_segment, libc_text);
    if (tl_wait_stack_init(tl_options.stack_signal, libc_text) < 0)
        tl_log(TL_LOG_INFO,
               "signal %d is the program's: blocked threads' stacks are call sites only",
               tl_options.stack_signal);
    tl_signals_init();
    return 0;
}

/* Whether LD_PRELOAD brought us in (else a late dlopen: threadlens attach starts us). */
static int preloaded(void)
{
    Dl_info self;
    const char *preload = getenv("LD_PRELOAD");
    if (!preload || !dladdr((void *)&find_text_segment, &self) || !self.dli_fname)
        return 0;
    const char *base = strrchr(self.dli_fname, '/');
    return strstr(preload, base ? base + 1 : self.dli_fname) != NULL;
}

__attribute__((constructor)) static void agent_init(void)
{
    if (!preloaded())
        return;
    tl_options_parse(getenv("THREADLENS_OPTIONS")); /* bad entries were named; defaults kept */
    if (tl_agent_start(0) < 0)
        return;
    tl_collector_activate();
    tl_log(TL_LOG_INFO, "recording to %s", tl_options.db);
}

__attribute__((destructor)) static void agent_fini(void)
{
    tl_collector_finish(exit_status, "exit");
}
