/*
 * detect_memory_leak.h - `memory-leak` at exit: sampled blocks still
 * allocated that nothing in the process's writable memory (data, bss, heap,
 * stacks, mappings) points to, the agent's own tables left out; grouped by
 * allocation site, largest first, with estimated bytes and counts. A block
 * that is still referenced (a global cache, stdio's buffer) is not a leak.
 * Known false negatives: a leaked block referenced only from another leaked
 * block; stale copies of a pointer left in memory. Memory is read with
 * process_vm_readv, so a mapping that vanishes mid-scan cannot crash the
 * program; the scan stops at `leak_scan_max` bytes. Collector (exit) only.
 */
#ifndef TL_DETECT_MEMORY_LEAK_H
#define TL_DETECT_MEMORY_LEAK_H

void tl_memory_leak_at_exit(void);

#endif
