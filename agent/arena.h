/*
 * arena.h - the agent's allocator for records that live as long as the
 * process (threads, locks, edges, stacks, findings). Never the wrapped
 * malloc: chunks come from mmap. Any thread may allocate; a tl_spin protects
 * the bump pointer. Called on slow paths only (a new fact), never per lock
 * operation. Memory is zeroed and never returned; tl_arena_limit() bounds it,
 * and past the limit allocation fails (NULL) and the caller degrades.
 */
#ifndef TL_ARENA_H
#define TL_ARENA_H

#include <stddef.h>
#include <stdint.h>

/* Returns zeroed memory aligned to 16 bytes, or NULL when the limit is reached or mmap fails. */
void *tl_arena_alloc(size_t size);
/*
 * Same, aligned to a cache line: for records that one thread writes on its
 * hot path (a lock's counters, a thread's held stack), so two of them never
 * share a line and bounce between cores.
 */
void *tl_arena_alloc_line(size_t size);
size_t tl_arena_used(void);

/* Memory the agent mapped for itself (arena chunks, tables): scans of the program skip it. */
struct tl_region {
    uintptr_t lo, hi;
};
void tl_region_add(const void *p, size_t size);
/* Copies up to `max` regions into `out`. Returns how many there are in all. */
int tl_region_list(struct tl_region *out, int max);
/*
 * Bytes of those regions and of the agent's static data that are resident
 * now (mincore): the agent's own memory, its records, stacks and tables (not
 * SQLite's heap nor the collector's stack). -1 when mincore fails. One
 * caller at a time: the collector's ticks, under its lock.
 */
int64_t tl_region_resident(void);
/* The agent's own static data (its .data and .bss), which tl_region_resident() counts too. */
void tl_region_set_static(uintptr_t lo, uintptr_t hi);
void tl_arena_set_limit(size_t bytes);
/* Child side of fork: the spin may have been held by a thread that no longer exists. */
void tl_arena_after_fork_child(void);

/* fork: hold the table lock across fork so the child inherits a consistent table. */
void tl_arena_fork_prepare(void);
void tl_arena_fork_parent(void);

#endif
