/*
 * remote_mem.h - read and write another process's memory (process_vm_readv
 * and process_vm_writev, falling back on /proc/PID/mem). The caller must be
 * allowed to ptrace the target. No state.
 */
#ifndef TL_REMOTE_MEM_H
#define TL_REMOTE_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

int tl_mem_read(pid_t pid, uint64_t addr, void *pBuf, size_t n);
int tl_mem_write(pid_t pid, uint64_t addr, const void *pBuf, size_t n);

#endif
