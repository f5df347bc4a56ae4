/*
 * test_task.c - agent/task.c: task records, handles, counters, the
 * collector's writer and the task-leak check. task.c is compiled into this
 * test; the thread registry and the store are stubs (below), and the test
 * plays the collector: drain() takes the publish queue and writes it. The
 * module is process-global: every case ends the tasks it opened and drains.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "finding.h"
#include "publish.h"
#include "store.h"
#include "task.h"
#include "thread.h"
#include "threadlens.h"

/* ---- stubs: the thread registry ---------------------------------------------------- */

#define MAX_THREADS 8

__thread struct tl_thread *tl_self __attribute__((tls_model("initial-exec")));
atomic_int tl_active = 1;
static struct tl_thread thread_records[MAX_THREADS]; /* never freed, like the agent's */
static atomic_uint nthreads;

struct tl_thread *tl_thread_self_slow(void)
{
    if (!atomic_load(&tl_active))
        return NULL;
    unsigned i = atomic_fetch_add(&nthreads, 1);
    if (i >= MAX_THREADS)
        return NULL;
    struct tl_thread *t = &thread_records[i];
    t->id = i + 1;
    tl_self = t;
    return t;
}

/* ---- stubs: the store -------------------------------------------------------------- */

#define MAX_ROWS 4096

struct row {
    uint64_t id;
    char name[64];
    int named;
    int64_t queued_ns, started_ns, ended_ns;
    uint32_t submit_thread, run_thread;
    struct tl_stack *stack;
};

static struct row rows[MAX_ROWS]; /* the latest row of each task id, as INSERT OR REPLACE */
static int nrows;
static struct tl_finding *findings[16];
static int nfindings;

int tl_store_task(const struct tl_task_row *t)
{
    int i = 0;
    while (i < nrows && rows[i].id != t->id)
        i++;
    if (i == MAX_ROWS)
        return 0;
    nrows += i == nrows;
    rows[i] = (struct row){.id = t->id, .named = t->name != NULL, .queued_ns = t->queued_ns,
                           .started_ns = t->started_ns, .ended_ns = t->ended_ns,
                           .submit_thread = t->submit_thread, .run_thread = t->run_thread,
                           .stack = t->submit_stack};
    snprintf(rows[i].name, sizeof rows[i].name, "%s", t->name ? t->name : "");
    return 0;
}

void tl_store_stack_function(struct tl_stack *stack, char *buf, size_t size)
{
    snprintf(buf, size, "%s", stack ? "site_fn" : "??");
}

/* ---- helpers ----------------------------------------------------------------------- */

/* The collector's tick: writes every queued record. Returns how many task records it wrote. */
static int drain(void)
{
    int n = 0;
    for (struct tl_pub *p = tl_publish_take_all(), *next; p; p = next) {
        next = p->next;
        tl_publish_done(p);
        if (p->type == TL_PUB_TASK) {
            tl_task_write(p);
            n++;
        } else if (p->type == TL_PUB_FINDING && nfindings < 16) {
            findings[nfindings++] = tl_container_of(p, struct tl_finding, pub);
        }
    }
    return n;
}

static void reset_log(void)
{
    drain();
    nrows = 0;
    nfindings = 0;
}

static const struct row *row_of(uint64_t id)
{
    for (int i = 0; i < nrows; i++)
        if (rows[i].id == id)
            return &rows[i];
    return NULL;
}

/* The id of the last row written (the task just drained). */
static uint64_t last_id(void)
{
    assert_true(nrows > 0);
    return rows[nrows - 1].id;
}

struct counts {
    int64_t in_flight, queued, total;
};

static struct counts counts(void)
{
    struct counts c;
    tl_task_counts(&c.in_flight, &c.queued, &c.total);
    return c;
}

/* ---- cases ------------------------------------------------------------------------- */

static void test_task_inactive_is_noop(void **state)
{
    (void)state;
    reset_log();
    struct counts before = counts();
    atomic_store(&tl_active, 0);
    threadlens_task h = threadlens_task_submit("off");
    atomic_store(&tl_active, 1);
    assert_true(h == 0);
    assert_int_equal(drain(), 0);
    assert_true(counts().total == before.total);
}

static void test_task_life_written(void **state)
{
    (void)state;
    reset_log();
    struct counts before = counts();
    threadlens_task h = threadlens_task_submit("first");
    assert_true(h != 0);
    assert_int_equal(drain(), 1);
    uint64_t id = last_id();
    const struct row *r = row_of(id);
    assert_string_equal(r->name, "first");
    assert_true(r->queued_ns > 0 && r->started_ns == 0 && r->ended_ns == 0);
    assert_int_equal(r->submit_thread, tl_self->id);
    assert_non_null(r->stack); /* the submit site's stack */
    struct counts c = counts();
    assert_true(c.total == before.total + 1 && c.queued == before.queued + 1);

    threadlens_task_name(h, "renamed");
    threadlens_task_start(h);
    assert_true(counts().in_flight == before.in_flight + 1);
    assert_int_equal(drain(), 1); /* two changes, one write */
    r = row_of(id);
    assert_string_equal(r->name, "renamed");
    assert_true(r->started_ns >= r->queued_ns && r->ended_ns == 0);
    assert_int_equal(r->run_thread, tl_self->id);

    threadlens_task_end(h);
    assert_int_equal(drain(), 1);
    r = row_of(id);
    assert_true(r->ended_ns >= r->started_ns);
    c = counts();
    assert_true(c.in_flight == before.in_flight && c.queued == before.queued);
    assert_true(c.total == before.total + 1);
}

static void test_task_names_copied_and_truncated(void **state)
{
    (void)state;
    reset_log();
    char name[64];
    snprintf(name, sizeof name, "%s", "a-name-of-more-than-thirty-one-bytes-in-all");
    threadlens_task h = threadlens_task_submit(name);
    memset(name, 'x', sizeof name - 1); /* the agent kept its own copy */
    drain();
    assert_string_equal(rows[nrows - 1].name, "a-name-of-more-than-thirty-one-");
    threadlens_task_name(h, NULL);
    drain();
    assert_false(rows[nrows - 1].named);
    threadlens_task_end(h);
    drain();
}

static void test_task_cancelled_while_queued(void **state)
{
    (void)state;
    reset_log();
    struct counts before = counts();
    threadlens_task h = threadlens_task_submit("cancelled");
    threadlens_task_end(h);
    threadlens_task_start(h); /* dead: ignored */
    drain();
    const struct row *r = &rows[nrows - 1];
    assert_true(r->started_ns == 0 && r->ended_ns > 0 && r->run_thread == 0);
    struct counts c = counts();
    assert_true(c.queued == before.queued && c.in_flight == before.in_flight);
}

/* A handle stays dead when its record runs another task: the generation tells them apart. */
static void test_task_stale_handle_ignored_after_reuse(void **state)
{
    (void)state;
    reset_log();
    threadlens_task old = threadlens_task_submit("old");
    threadlens_task_start(old);
    threadlens_task_end(old);
    drain(); /* written: the record is recycled */
    threadlens_task reused = 0;
    for (int i = 0; i < 100000 && !reused; i++) {
        threadlens_task h = threadlens_task_submit("new");
        if ((uint32_t)h == (uint32_t)old) {
            reused = h;
            break;
        }
        threadlens_task_end(h);
        if (i % 64 == 0)
            reset_log();
    }
    assert_true(reused != 0 && reused != old);
    reset_log();
    threadlens_task_start(old);
    threadlens_task_end(old);
    threadlens_task_name(old, "stale");
    assert_int_equal(drain(), 0); /* nothing happened to the new task */
    threadlens_task_start(reused);
    drain();
    assert_string_equal(rows[nrows - 1].name, "new");
    assert_true(rows[nrows - 1].ended_ns == 0 && rows[nrows - 1].started_ns > 0);
    threadlens_task_end(reused);
    drain();
}

static void test_task_bogus_handles_ignored(void **state)
{
    (void)state;
    reset_log();
    struct counts before = counts();
    const threadlens_task bogus[] = {0, 1, 0xffffffffull, 0xffffffffffffffffull,
                                     0x123456789abcdefull, (uint64_t)1 << 40,
                                     (uint64_t)7 << 32 | 3};
    for (size_t i = 0; i < sizeof bogus / sizeof bogus[0]; i++) {
        threadlens_task_start(bogus[i]);
        threadlens_task_name(bogus[i], "bogus");
        threadlens_task_end(bogus[i]);
    }
    assert_int_equal(drain(), 0);
    struct counts c = counts();
    assert_true(c.in_flight == before.in_flight && c.queued == before.queued);
}

struct pool_arg {
    threadlens_task tasks[3];
};

static void *run_on_other_thread(void *arg)
{
    struct pool_arg *a = arg;
    threadlens_task_start(a->tasks[0]);
    threadlens_task_end(a->tasks[0]);
    threadlens_task_start(a->tasks[1]);
    return NULL;
}

static void test_task_counts_across_threads(void **state)
{
    (void)state;
    reset_log();
    struct counts before = counts();
    struct pool_arg a;
    for (int i = 0; i < 3; i++)
        a.tasks[i] = threadlens_task_submit("pooled");
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, run_on_other_thread, &a), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    struct counts c = counts();
    assert_true(c.total == before.total + 3);
    assert_true(c.in_flight == before.in_flight + 1); /* tasks[1] */
    assert_true(c.queued == before.queued + 1);       /* tasks[2] */
    drain();
    for (int i = 0; i < nrows; i++)
        if (rows[i].started_ns)
            assert_int_not_equal(rows[i].run_thread, rows[i].submit_thread);
    threadlens_task_end(a.tasks[1]);
    threadlens_task_end(a.tasks[2]);
    drain();
    c = counts();
    assert_true(c.in_flight == before.in_flight && c.queued == before.queued);
}

/* Two call sites: each is one finding. The asm keeps the submit out of tail position. */
static threadlens_task __attribute__((noinline)) submit_from_a(void)
{
    threadlens_task h = threadlens_task_submit("a");
    __asm__ volatile("" ::: "memory");
    return h;
}

static threadlens_task __attribute__((noinline)) submit_from_b(void)
{
    threadlens_task h = threadlens_task_submit(NULL);
    __asm__ volatile("" ::: "memory");
    return h;
}

static void test_task_leak_grouped_by_site(void **state)
{
    (void)state;
    reset_log();
    threadlens_task a1 = submit_from_a(), a2 = submit_from_a(), b = submit_from_b();
    threadlens_task ended = submit_from_b();
    threadlens_task_start(a1);
    threadlens_task_end(ended);
    drain();
    tl_task_leak_at_exit();
    drain();
    assert_int_equal(nfindings, 2);
    int seen_a = 0, seen_b = 0;
    for (int i = 0; i < nfindings; i++) {
        struct tl_finding *f = findings[i];
        assert_int_equal(f->kind, TL_FINDING_TASK_LEAK);
        assert_int_equal(atomic_load(&f->severity), TL_SEVERITY_WARNING);
        assert_true(f->nitems >= 1);
        assert_int_equal(f->items[0].role, TL_ROLE_STACK);
        assert_string_equal(f->items[0].detail, "submitted");
        if (strcmp(f->summary, "2 tasks named \"a\" from site_fn never ended "
                               "(1 started, 1 still queued)") == 0) {
            seen_a++;
            assert_int_equal(f->nitems, 2); /* the stack, the thread that started a1 */
            assert_int_equal(f->items[1].role, TL_ROLE_THREAD);
            assert_int_equal(f->items[1].thread, tl_self->id);
        } else {
            assert_string_equal(f->summary,
                                "1 task from site_fn never ended (0 started, 1 still queued)");
            seen_b++;
        }
    }
    assert_true(seen_a == 1 && seen_b == 1);
    threadlens_task_end(a1);
    threadlens_task_end(a2);
    threadlens_task_end(b);
    reset_log();
    tl_task_leak_at_exit();
    drain();
    assert_int_equal(nfindings, 0);
}

static void test_task_fork_child_forgets_parent_tasks(void **state)
{
    (void)state;
    reset_log();
    threadlens_task open = threadlens_task_submit("across-fork");
    threadlens_task_start(open);
    drain();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        tl_publish_reset();
        tl_task_after_fork_child();
        struct counts c = counts();
        int ok = c.in_flight == 0 && c.queued == 0 && c.total == 0;
        threadlens_task_end(open); /* dead in the child */
        ok &= drain() == 0;
        threadlens_task mine = threadlens_task_submit("child");
        ok &= mine != 0 && counts().queued == 1;
        nfindings = 0;
        tl_task_leak_at_exit();
        drain();
        ok &= nfindings == 1;
        _exit(ok ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    threadlens_task_end(open); /* alive in the parent */
    assert_int_equal(drain(), 1);
    assert_true(rows[nrows - 1].ended_ns > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_task_inactive_is_noop),
        cmocka_unit_test(test_task_life_written),
        cmocka_unit_test(test_task_names_copied_and_truncated),
        cmocka_unit_test(test_task_cancelled_while_queued),
        cmocka_unit_test(test_task_stale_handle_ignored_after_reuse),
        cmocka_unit_test(test_task_bogus_handles_ignored),
        cmocka_unit_test(test_task_counts_across_threads),
        cmocka_unit_test(test_task_leak_grouped_by_site),
        cmocka_unit_test(test_task_fork_child_forgets_parent_tasks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
