/* detect_thread_leak.c - leaked threads at exit (see detect_thread_leak.h). */
#include "detect_thread_leak.h"

#include <stdio.h>
#include <stdlib.h>

#include "finding.h"

#define MAX_LISTED 64 /* threads itemised per finding; the summary counts them all */

static int leaked(const struct tl_thread *t, const struct tl_thread *exiting)
{
    return t != exiting && t->id != 1 && t->create_stack && !atomic_load(&t->detached_by) &&
           !atomic_load(&t->joined_by);
}

static int by_site(const void *a, const void *b)
{
    const struct tl_thread *x = *(struct tl_thread *const *)a, *y = *(struct tl_thread *const *)b;
    if (x->create_stack != y->create_stack)
        return (uintptr_t)x->create_stack < (uintptr_t)y->create_stack ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static void report_site(const struct tl_waitgraph *g, struct tl_thread **threads, int n)
{
    int listed = n < MAX_LISTED ? n : MAX_LISTED;
    struct tl_finding *f = tl_finding_new(TL_FINDING_THREAD_LEAK, TL_SEVERITY_WARNING, 0,
                                          1 + 2 * (unsigned)listed);
    if (!f)
        return;
    unsigned k = 0;
    int zombies = 0, running = 0;
    f->items[k++] = (struct tl_finding_item){.role = TL_ROLE_STACK,
                                             .stack = threads[0]->create_stack,
                                             .detail = "created"};
    for (int i = 0; i < n; i++) {
        struct tl_thread *t = threads[i];
        int alive = atomic_load(&t->alive);
        alive ? running++ : zombies++;
        if (i >= listed)
            continue;
        f->items[k++] = (struct tl_finding_item){.role = TL_ROLE_THREAD, .thread = t->id,
                                                 .detail = alive ? "running" : "zombie"};
        int j = alive ? tl_waitgraph_index(g, t) : -1;
        if (j >= 0) {
            struct tl_frame frames[TL_STACK_MAX];
            int nframes = tl_wait_stack(t, g->nodes[j].wait.seq, frames, TL_STACK_MAX);
            f->items[k++] = (struct tl_finding_item){
                .role = TL_ROLE_STACK, .thread = t->id,
                .stack = tl_stack_from_frames(frames, nframes, 0), .detail = "blocked"};
        }
    }
    f->nitems = k;
    char summary[256];
    snprintf(summary, sizeof summary,
             "%d thread%s from one creation site never joined nor detached: "
             "%d finished (zombie%s), %d still running at exit",
             n, n == 1 ? "" : "s", zombies, zombies == 1 ? "" : "s", running);
    f->summary = tl_finding_text(summary);
    tl_publish(&f->pub);
}

void tl_thread_leak_at_exit(const struct tl_waitgraph *g, const struct tl_thread *exiting)
{
    int n = 0;
    for (struct tl_thread *t = tl_thread_first(); t; t = t->next)
        n += leaked(t, exiting);
    if (n == 0)
        return;
    struct tl_thread **threads = malloc((size_t)n * sizeof *threads);
    if (!threads)
        return;
    int k = 0;
    for (struct tl_thread *t = tl_thread_first(); t && k < n; t = t->next)
        if (leaked(t, exiting))
            threads[k++] = t;
    qsort(threads, (size_t)k, sizeof *threads, by_site);
    /* Blocked leakers tell where they block: ask them all at once. */
    int *blocked = malloc((size_t)k * sizeof *blocked);
    int nb = 0;
    for (int i = 0; blocked && i < k; i++) {
        int j = tl_waitgraph_index(g, threads[i]);
        if (j >= 0)
            blocked[nb++] = j;
    }
    tl_waitgraph_request_stacks(g, blocked, nb);
    free(blocked);
    for (int start = 0; start < k;) {
        int end = start + 1;
        while (end < k && threads[end]->create_stack == threads[start]->create_stack)
            end++;
        report_site(g, threads + start, end - start);
        start = end;
    }
    free(threads);
}
