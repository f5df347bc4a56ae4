/*
 * symbolize.h - module + offset to source file and line, from the DWARF line
 * table of the module or of its separate debug file (found by build id under
 * /usr/lib/debug/.build-id, then by .gnu_debuglink next to the module, in
 * its .debug/ folder and under /usr/lib/debug). A frame's offset in the
 * database is the return address minus one, minus the module's load bias:
 * the link-time virtual address of the call instruction, which is what the
 * line table holds, so it is looked up as it is.
 *
 * Each module's table is read once per viewer process and cached by path
 * (single-threaded: the viewer has one thread). A module that is missing,
 * not ELF, or without usable debug info symbolizes to nothing.
 */
#ifndef TL_SYMBOLIZE_H
#define TL_SYMBOLIZE_H

#include <stdint.h>

/*
 * Sets *file (owned by the cache, valid until tl_symbolize_reset) and *line
 * for module+offset. Returns 0, or -1 when unknown (including module NULL or
 * offset TL_NULL).
 */
int tl_symbolize(const char *module, int64_t offset, const char **file, unsigned *line);
/* Frees the cache. */
void tl_symbolize_reset(void);

#endif
