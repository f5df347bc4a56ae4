/*
 * alert.c - on_finding=CMD (see alert.h). Sections: the finding as one JSON
 * line, the command's environment, spawning, reaping.
 */
#include "alert.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "finding.h"
#include "lockgraph.h"
#include "log.h"
#include "options.h"
#include "stack.h"
#include "symbols.h"

extern char **environ;

#define MAX_PENDING 64      /* findings written in one tick and waiting for their command */
#define JSON_MAX (48 * 1024) /* under the 64 KiB pipe buffer: the write never blocks */
#define ENV_MAX 2048        /* environment entries passed on */
#define FINISH_WAIT_MS 1000 /* at the process end, for commands still running */

/* All below: collector thread or exit flush, under collector_lock. */
static const struct tl_finding *pending[MAX_PENDING];
static unsigned npending;
static pid_t running[TL_ALERT_MAX_RUNNING];
static unsigned nrunning;
static pid_t owner;        /* the process that spawned `running`: a fork child has none */
static unsigned dropped;
static int said_dropped, said_failed, said_spawn;
static char json[JSON_MAX];
static char *child_env[ENV_MAX + 1];
static char preload[4096]; /* LD_PRELOAD without the agent */

/* ---- the finding as one JSON line ---- */

struct out {
    char *buf;
    size_t len, cap; /* cap leaves room for the closing brackets */
    int full;
};

static void put_raw(struct out *o, const char *s, size_t n)
{
    if (o->full || o->len + n > o->cap) {
        o->full = 1;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void put_str(struct out *o, const char *s)
{
    put_raw(o, s, strlen(s));
}

static void put_fmt(struct out *o, const char *fmt, long long v)
{
    char tmp[48];
    int n = snprintf(tmp, sizeof tmp, fmt, v);
    put_raw(o, tmp, (size_t)n);
}

/* A JSON string, or null. Names longer than 512 bytes are cut. */
static void put_json_string(struct out *o, const char *s)
{
    if (!s) {
        put_str(o, "null");
        return;
    }
    put_raw(o, "\"", 1);
    for (size_t i = 0; s[i] && i < 512; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put_raw(o, esc, 2);
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put_raw(o, esc, 6);
        } else {
            put_raw(o, (const char *)&c, 1);
        }
    }
    put_raw(o, "\"", 1);
}

/* Appends a frame if it fits whole with room left for the closing "]}". */
static void put_frame(struct out *o, uintptr_t pc, unsigned *written)
{
    char scratch[1400];
    struct out f = {scratch, 0, sizeof scratch, 0};
    struct tl_symbol sym;
    tl_symbols_lookup(pc - 1, &sym); /* a return address: pc - 1 is in the call, as store.c */
    put_str(&f, *written ? ",{\"function\":" : "{\"function\":");
    put_json_string(&f, sym.name);
    put_str(&f, ",\"module\":");
    put_json_string(&f, sym.module);
    char offset[48];
    snprintf(offset, sizeof offset, ",\"offset\":\"0x%llx\"}",
             (unsigned long long)(sym.module ? sym.offset : pc - 1));
    put_str(&f, offset);
    if (f.full || o->len + f.len + 2 > o->cap)
        return;
    put_raw(o, scratch, f.len);
    (*written)++;
}

/* One stack object; left out when its header would not fit. */
static void put_stack(struct out *o, const struct tl_stack *s, const char *role, uint32_t thread,
                      unsigned *nstacks)
{
    if (!s || o->len + 128 > o->cap)
        return;
    put_str(o, *nstacks ? ",{\"role\":" : "{\"role\":");
    (*nstacks)++;
    put_json_string(o, role); /* a detector's static string, a few bytes */
    put_fmt(o, ",\"thread\":%lld,\"frames\":[", thread);
    unsigned written = 0;
    for (uint32_t i = 0; i < s->depth; i++)
        put_frame(o, s->pc[i], &written);
    put_str(o, "]}");
}

/*
 * Writes f as one line into `json`. Returns its length. Stacks that do not
 * fit are cut; the line stays valid JSON.
 */
static size_t finding_json(const struct tl_finding *f)
{
    struct out o = {json, 0, sizeof json - 64, 0}; /* 64: the closing "]}\n" */
    unsigned nstacks = 0;
    put_str(&o, "{\"kind\":");
    put_json_string(&o, tl_finding_kind_name(f->kind));
    put_str(&o, ",\"severity\":");
    put_json_string(&o, tl_severity_name(f->written_severity));
    put_str(&o, ",\"summary\":");
    put_json_string(&o, f->summary);
    put_fmt(&o, ",\"pid\":%lld", (long long)getpid());
    put_fmt(&o, ",\"time_ns\":%lld", (long long)f->t_ns);
    put_fmt(&o, ",\"id\":%lld", (long long)f->db_id);
    put_str(&o, ",\"db\":");
    put_json_string(&o, tl_options.db);
    put_str(&o, ",\"stacks\":[");
    for (unsigned i = 0; i < f->nitems; i++) {
        const struct tl_finding_item *it = &f->items[i];
        put_stack(&o, it->stack, it->detail ? it->detail : "stack", it->thread, &nstacks);
        if (it->edge) {
            put_stack(&o, it->edge->held_stack, "held", it->edge->thread, &nstacks);
            put_stack(&o, it->edge->acquire_stack, "acquired", it->edge->thread, &nstacks);
        }
    }
    o.cap = sizeof json;
    put_str(&o, "]}\n");
    return o.len;
}

/* ---- the command's environment: the program's, without the agent ---- */

static int names_agent(const char *entry, size_t n)
{
    for (size_t i = 0; i + 13 <= n; i++)
        if (memcmp(entry + i, "libthreadlens", 13) == 0)
            return 1;
    return 0;
}

/* "LD_PRELOAD=..." minus the entries naming the agent, or NULL when none is left. */
static char *preload_without_agent(const char *value)
{
    size_t len = (size_t)snprintf(preload, sizeof preload, "LD_PRELOAD=");
    for (const char *p = value; *p;) {
        size_t n = strcspn(p, ": ");
        if (n && !names_agent(p, n) && len + n + 2 < sizeof preload) {
            if (len > 11)
                preload[len++] = ':';
            memcpy(preload + len, p, n);
            len += n;
        }
        p += n;
        p += *p != '\0';
    }
    preload[len] = '\0';
    return len > 11 ? preload : NULL;
}

static char **command_env(void)
{
    size_t n = 0;
    for (char **e = environ; e && *e && n < ENV_MAX; e++) {
        if (strncmp(*e, "THREADLENS_OPTIONS=", 19) == 0)
            continue;
        if (strncmp(*e, "LD_PRELOAD=", 11) == 0) {
            char *kept = preload_without_agent(*e + 11);
            if (kept)
                child_env[n++] = kept;
            continue;
        }
        child_env[n++] = *e;
    }
    child_env[n] = NULL;
    return child_env;
}

/* ---- spawning and reaping ---- */

/* The read end of a pipe already holding `len` bytes of json, closed for writing. -1 on error. */
static int input_pipe(size_t len)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -1;
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    ssize_t unused = write(fds[1], json, len); /* fits the buffer; never blocks either way */
    (void)unused;
    close(fds[1]);
    return fds[0];
}

/* Starts the command for f. Returns its pid, or -1. */
static pid_t spawn_command(const struct tl_finding *f)
{
    int in = input_pipe(finding_json(f));
    if (in < 0)
        return -1;
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigmask(&attr, &none); /* the collector blocks every signal */
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    char *argv[] = {"sh", "-c", tl_options.on_finding, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, command_env());
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    close(in);
    if (rc != 0) {
        if (!said_spawn++)
            tl_log(TL_LOG_ERROR, "on_finding: cannot start /bin/sh (%s)", strerror(rc));
        return -1;
    }
    return pid;
}

static void note_status(int status)
{
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return;
    if (!said_failed++)
        tl_log(TL_LOG_INFO, "on_finding: command %s %d (later failures not logged)",
               WIFEXITED(status) ? "exited with status" : "killed by signal",
               WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

/* Reaps the commands that finished. Never blocks. */
static void reap(void)
{
    if (owner != getpid()) { /* a fork child: the parent's commands are not ours */
        nrunning = 0;
        owner = getpid();
    }
    for (unsigned i = 0; i < nrunning;) {
        int status;
        pid_t r = waitpid(running[i], &status, WNOHANG);
        if (r == 0) {
            i++;
            continue;
        }
        if (r > 0)
            note_status(status);
        /* r < 0: ECHILD, the program reaped it (wait(-1)); either way it is gone */
        running[i] = running[--nrunning];
    }
}

static void start_pending(void)
{
    for (unsigned i = 0; i < npending; i++) {
        if (pending[i]->db_id == 0 || pending[i]->suppressed)
            continue; /* not written, or silenced by a suppression: no alert */
        if (nrunning == TL_ALERT_MAX_RUNNING) {
            dropped++;
            if (!said_dropped++)
                tl_log(TL_LOG_ERROR, "on_finding: %d commands still running; findings "
                       "dropped (later drops not logged)", TL_ALERT_MAX_RUNNING);
            continue;
        }
        pid_t pid = spawn_command(pending[i]);
        if (pid > 0)
            running[nrunning++] = pid;
    }
    npending = 0;
}

void tl_alert_finding(const struct tl_finding *f)
{
    if (!tl_options.on_finding[0])
        return;
    if (npending == MAX_PENDING) {
        dropped++;
        return;
    }
    pending[npending++] = f;
}

void tl_alert_tick(void)
{
    if (!tl_options.on_finding[0])
        return;
    reap();
    start_pending();
}

void tl_alert_finish(void)
{
    tl_alert_tick();
    for (int waited = 0; nrunning > 0 && waited < FINISH_WAIT_MS; waited += 10) {
        nanosleep(&(struct timespec){0, 10 * 1000000}, NULL);
        reap();
    }
}

unsigned tl_alert_dropped(void)
{
    return dropped;
}
