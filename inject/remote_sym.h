/*
 * remote_sym.h - find a shared library mapped in a target process and the
 * addresses of its exported functions there, by reading the library's ELF
 * .dynsym from disk (through /proc/PID/root, so a target in another mount
 * namespace works) and adding the load bias seen in /proc/PID/maps. Nothing
 * is resolved through our own libc. Used by `attach`; no state.
 */
#ifndef TL_REMOTE_SYM_H
#define TL_REMOTE_SYM_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

/* A library as mapped in the target. */
struct tl_module {
    char zPath[PATH_MAX]; /* path as /proc/PID/maps shows it */
    uint64_t base;        /* start of its mapping at file offset 0 */
    uint64_t end;         /* end of that mapping (for map_files/) */
};

/* Tells whether a mapped file's base name is the library wanted. */
typedef int (*tl_module_match_fn)(const char *zBase);

int tl_module_find(pid_t pid, tl_module_match_fn xMatch, struct tl_module *p);
int tl_module_syms(pid_t pid, const struct tl_module *p, const char *const *azName,
                   uint64_t *aAddr, int n);

#endif
