/* detect_memory_leak.c - unreferenced sampled blocks at exit (see detect_memory_leak.h). */
#include "detect_memory_leak.h"

#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "arena.h"
#include "finding.h"
#include "heap.h"
#include "log.h"
#include "options.h"
#include "store.h"

#define MAX_REPORTED 20      /* sites, largest first */
#define CHUNK (64 * 1024)    /* bytes copied per process_vm_readv */
#define SKIP_MAX 4096        /* mappings of ours the scan skips (tl_region_list) */

struct candidate {
    uintptr_t lo, hi;        /* the block */
    const struct tl_sampled *entry;
    int referenced;
};

struct scan {
    struct candidate *c;
    size_t n, cap;
    uintptr_t min, max;
    struct tl_region *skip;  /* SKIP_MAX + 8 entries */
    int nskip;
    size_t budget;           /* bytes left to scan */
    uintptr_t *buf;          /* CHUNK bytes from the arena, which the scan skips */
};

static void collect(const struct tl_sampled *e, void *arg)
{
    struct scan *s = arg;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        struct candidate *c = realloc(s->c, cap * sizeof *c);
        if (!c)
            return;
        s->c = c;
        s->cap = cap;
    }
    s->c[s->n++] = (struct candidate){e->addr, e->addr + (e->size ? e->size : 1), e, 0};
}

static int by_lo(const void *a, const void *b)
{
    uintptr_t x = ((const struct candidate *)a)->lo, y = ((const struct candidate *)b)->lo;
    return x < y ? -1 : x > y;
}

static struct candidate *find(struct scan *s, uintptr_t v)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->c[mid].hi <= v)
            lo = mid + 1;
        else if (s->c[mid].lo > v)
            hi = mid;
        else
            return &s->c[mid];
    }
    return NULL;
}

/* Marks the candidates the words of [lo, hi) point into (interior pointers count). */
static void scan_range(struct scan *s, uintptr_t lo, uintptr_t hi)
{
    uintptr_t *buf = s->buf;
    for (uintptr_t at = lo; at < hi && s->budget > 0;) {
        size_t len = hi - at < CHUNK ? hi - at : CHUNK;
        struct iovec local = {buf, len}, remote = {(void *)at, len};
        ssize_t got = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
        if (got <= 0)
            return; /* unmapped or unreadable meanwhile */
        s->budget = (size_t)got > s->budget ? 0 : s->budget - (size_t)got;
        for (size_t i = 0; i < (size_t)got / sizeof(uintptr_t); i++) {
            uintptr_t v = buf[i];
            if (v < s->min || v >= s->max)
                continue;
            struct candidate *c = find(s, v);
            uintptr_t where = at + i * sizeof(uintptr_t);
            if (c && (where < c->lo || where >= c->hi)) /* a block pointing to itself is alone */
                c->referenced = 1;
        }
        at += (uintptr_t)got;
    }
}

/* Scans [lo, hi) minus the agent's own regions. */
static void scan_mapping(struct scan *s, uintptr_t lo, uintptr_t hi)
{
    for (int i = 0; i < s->nskip && lo < hi; i++) {
        const struct tl_region *r = &s->skip[i];
        if (r->hi <= lo || r->lo >= hi)
            continue;
        if (r->lo > lo)
            scan_range(s, lo, r->lo);
        lo = r->hi;
    }
    if (lo < hi)
        scan_range(s, lo, hi);
}

static int by_region(const void *a, const void *b)
{
    uintptr_t x = ((const struct tl_region *)a)->lo, y = ((const struct tl_region *)b)->lo;
    return x < y ? -1 : x > y;
}

/* The agent's own writable segment (its globals): not the program's memory. */
static int own_data(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct scan *s = data;
    uintptr_t self = (uintptr_t)&own_data;
    int ours = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        ours |= ph->p_type == PT_LOAD && self >= lo && self < lo + ph->p_memsz;
    }
    for (int i = 0; ours && i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = (info->dlpi_addr + ph->p_vaddr) & ~(uintptr_t)4095;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W))
            s->skip[s->nskip++] = (struct tl_region){
                lo, (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + 4095) & ~(uintptr_t)4095};
    }
    return ours;
}

static void scan_memory(struct scan *s)
{
    s->nskip = tl_region_list(s->skip, SKIP_MAX);
    if (s->nskip > SKIP_MAX)
        s->nskip = SKIP_MAX;
    s->skip[s->nskip++] = (struct tl_region){(uintptr_t)s->c, (uintptr_t)(s->c + s->cap)};
    dl_iterate_phdr(own_data, s);
    /*
     * This thread's stack below its own frame is dead: stale copies of
     * pointers there (the allocator's, ours) would keep leaked blocks alive.
     */
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    s->skip[s->nskip++] = (struct tl_region){sp > (64u << 20) ? sp - (64u << 20) : 0, sp - 128};
    qsort(s->skip, (size_t)s->nskip, sizeof s->skip[0], by_region);
    FILE *maps = fopen("/proc/self/maps", "re");
    if (!maps)
        return;
    char line[512];
    while (fgets(line, sizeof line, maps) && s->budget > 0) {
        unsigned long lo, hi;
        char perms[8], path[256] = "";
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &lo, &hi, perms, path) < 3)
            continue;
        if (perms[0] != 'r' || perms[1] != 'w' || strcmp(path, "[vvar]") == 0 ||
            strcmp(path, "[vsyscall]") == 0)
            continue;
        scan_mapping(s, lo, hi);
    }
    fclose(maps);
}

struct site_total {
    struct tl_site *site;
    int64_t bytes, count;
};

static int by_bytes(const void *a, const void *b)
{
    int64_t x = ((const struct site_total *)a)->bytes, y = ((const struct site_total *)b)->bytes;
    return x > y ? -1 : x < y;
}

static void report(struct site_total *t, int exact)
{
    struct tl_finding *f = tl_finding_new(TL_FINDING_MEMORY_LEAK, TL_SEVERITY_WARNING, 0, 1);
    if (!f)
        return;
    f->items[0] = (struct tl_finding_item){.role = TL_ROLE_STACK, .stack = t->site->stack,
                                           .detail = "allocated"};
    char function[256], summary[512];
    tl_store_stack_function(t->site->stack, function, sizeof function);
    snprintf(summary, sizeof summary,
             "%s%lld bytes in %s%lld allocation%s from %s unreferenced at exit%s",
             exact ? "" : "about ", (long long)t->bytes, exact ? "" : "about ",
             (long long)t->count, t->count == 1 ? "" : "s", function,
             exact ? "" : " (estimated from sampled allocations)");
    f->summary = tl_finding_text(summary);
    tl_publish(&f->pub);
}

void tl_memory_leak_at_exit(void)
{
    /*
     * 64 KiB, not on the stack, and apart from the rest of the state: only
     * the entries a scan fills are ever touched. Every process passes here at
     * exit, most with nothing sampled, and each page first written is a page
     * fault (16-22 us each on our 2-core virtual test machine).
     */
    static struct tl_region skip[SKIP_MAX + 8];
    static struct scan s;
    free(s.c);
    s = (struct scan){.min = UINTPTR_MAX, .skip = skip,
                      .budget = (size_t)tl_options.leak_scan_max};
    tl_heap_for_each_sampled(collect, &s);
    s.buf = s.n ? tl_arena_alloc(CHUNK) : NULL;
    if (!s.buf)
        goto out;
    qsort(s.c, s.n, sizeof *s.c, by_lo);
    s.min = s.c[0].lo;
    for (size_t i = 0; i < s.n; i++)
        if (s.c[i].hi > s.max)
            s.max = s.c[i].hi;
    scan_memory(&s);
    if (s.budget == 0) {
        tl_log(TL_LOG_INFO, "leak scan stopped at leak_scan_max; leaks not reported");
        goto out;
    }
    struct site_total *totals = calloc(s.n, sizeof *totals);
    size_t nt = 0;
    for (size_t i = 0; totals && i < s.n; i++) {
        if (s.c[i].referenced)
            continue;
        size_t k = 0;
        while (k < nt && totals[k].site != s.c[i].entry->site)
            k++;
        if (k == nt)
            totals[nt++] = (struct site_total){s.c[i].entry->site, 0, 0};
        totals[k].bytes += s.c[i].entry->weight_bytes;
        totals[k].count += s.c[i].entry->weight_count;
    }
    if (totals) {
        qsort(totals, nt, sizeof *totals, by_bytes);
        for (size_t k = 0; k < nt && k < MAX_REPORTED; k++)
            report(&totals[k], tl_options.sample_bytes <= 1);
    }
    free(totals);
out:
    free(s.c);
    s.c = NULL;
}
