/*
 * elf_check.h - tell a statically linked executable from a dynamic one, by
 * its program headers: no PT_INTERP means ld.so never runs, so LD_PRELOAD
 * (and the agent) cannot apply. Called by `run` before exec; no state.
 */
#ifndef TL_ELF_CHECK_H
#define TL_ELF_CHECK_H

#define TL_ELF_DYNAMIC 0   /* has PT_INTERP: preloading works */
#define TL_ELF_STATIC 1    /* an ELF executable without PT_INTERP */
#define TL_ELF_NOT_ELF 2   /* a script or other non-ELF file: exec decides */

int tl_elf_check(const char *zPath);

#endif
