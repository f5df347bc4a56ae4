/*
 * attach.c - the entry points `threadlens attach` and `threadlens detach`
 * call in a running process (through a loader thread the injector creates).
 *
 * The first attach starts the agent as the constructor would, records the
 * heap's size at that moment and rebinds the program's imports to the
 * agent (got_patch.c). Detach restores the imports, writes the last tick and
 * stops the collector; the library stays loaded, because a thread may be
 * inside one of its functions at any time. A later attach resumes the same
 * state into the same database and process row.
 *
 * What existed before the attach is learnt only when it is next used: a
 * thread at its first call into a wrapped function, a lock at its next
 * acquisition. Unlocks of locks the agent never saw taken and frees of
 * blocks it never saw allocated are ignored by the usual paths.
 */
#include <malloc.h>
#include <stdatomic.h>
#include <string.h>

#include "agent.h"
#include "clock.h"
#include "collector.h"
#include "export.h"
#include "got_patch.h"
#include "log.h"
#include "options.h"
#include "real.h"
#include "thread.h"

enum attach_state { NEVER, RECORDING, DETACHED };

static pthread_mutex_t attach_lock = PTHREAD_MUTEX_INITIALIZER;
static enum attach_state state = NEVER;

/*
 * Held stacks reflect only what was seen while recording: a lock released
 * while detached would stay "held" and fake lock-order edges. Wrappers are
 * inert now (tl_active is 0), so no thread pushes or pops concurrently.
 */
static void forget_held_locks(void)
{
    for (struct tl_thread *t = tl_thread_first(); t; t = t->next) {
        t->nheld = 0;
        t->untracked = 0;
    }
}

static int start_first(const char *options)
{
    tl_options_parse(options);
    if (tl_agent_start(tl_now_ns()) < 0)
        return -1;
    struct mallinfo2 heap = mallinfo2();
    tl_collector_set_heap_baseline((int64_t)(heap.uordblks + heap.hblkhd));
    return 0;
}

static int resume(const char *options)
{
    char db[sizeof tl_options.db];
    memcpy(db, tl_options.db, sizeof db);
    tl_options_parse(options);
    if (strcmp(db, tl_options.db) != 0) {
        tl_log(TL_LOG_ERROR, "attached before: recording continues in %s", db);
        memcpy(tl_options.db, db, sizeof db);
    }
    forget_held_locks();
    if (tl_collector_resume() < 0) {
        tl_log(TL_LOG_ERROR, "cannot record to %s again; running without threadlens", db);
        return -1;
    }
    return 0;
}

static int activate(void)
{
    int patched = tl_got_patch_all();
    if (patched < 0) {
        tl_log(TL_LOG_ERROR, "cannot rebind the program's calls (%d); detaching", patched);
        tl_collector_detach();
        return -1;
    }
    atomic_store(&tl_active, 1);
    tl_log(TL_LOG_INFO, "attached: %d call sites rebound, recording to %s", patched,
           tl_options.db);
    return 0;
}

/* Returns 0 when recording, 1 when it already was, -1 when it failed (said in one line). */
TL_EXPORT int threadlens_attach(const char *options)
{
    TL_REAL(mutex_lock)(&attach_lock);
    int rc = 1;
    if (state == NEVER && atomic_load(&tl_active))
        state = RECORDING; /* preloaded: recording since the start */
    if (state != RECORDING) {
        rc = state == NEVER ? start_first(options) : resume(options);
        if (rc == 0)
            rc = activate();
        if (rc == 0)
            state = RECORDING;
    }
    TL_REAL(mutex_unlock)(&attach_lock);
    return rc;
}

/* Shaped as a thread routine: the injector runs it on a thread of its own. */
TL_EXPORT void *threadlens_detach(void *unused)
{
    (void)unused;
    TL_REAL(mutex_lock)(&attach_lock);
    if (state == RECORDING) {
        tl_got_restore_all();
        atomic_store(&tl_active, 0);
        tl_collector_detach();
        state = DETACHED;
        tl_log(TL_LOG_INFO, "detached; the library stays loaded, inactive");
    }
    TL_REAL(mutex_unlock)(&attach_lock);
    return NULL;
}
