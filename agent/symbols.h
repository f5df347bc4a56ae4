/*
 * symbols.h - address to (module, offset, symbol). Modules come from
 * dl_iterate_phdr; names from each module's ELF .symtab (or .dynsym when
 * stripped), read from its file once and kept sorted. Functions and data
 * objects are both named, so a global lock variable gets its name too.
 *
 * Collector only (and the exit flush, under the agent guard): it allocates
 * with the real malloc and opens files. Not thread-safe by itself.
 */
#ifndef TL_SYMBOLS_H
#define TL_SYMBOLS_H

#include <stdint.h>

struct tl_symbol {
    const char *module;     /* module path, or NULL when no module contains the address */
    uintptr_t offset;       /* address relative to the module's load bias */
    const char *name;       /* symbol containing the address, or NULL */
    uintptr_t name_offset;  /* address - symbol start */
};

/*
 * The main executable's path, read at start-up: /proc/self/exe cannot be
 * read once the main thread has exited (pthread_exit from main).
 */
void tl_symbols_set_exe(const char *path);
/* Fills `out` for `addr`. Returns 0 when a module contains it, -1 otherwise. */
int tl_symbols_lookup(uintptr_t addr, struct tl_symbol *out);
/* Allows one more rescan of the module list (once per collector tick). */
void tl_symbols_tick(void);

#endif
