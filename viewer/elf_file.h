/*
 * elf_file.h - reads named sections and the build id of an ELF file, for the
 * symbolizer. 64-bit little-endian files only; anything else, and any
 * header, section or note that does not fit in the file, reads as absent.
 * Uses pread, never mmap: a file truncated under us cannot fault; only
 * regular files are read (a FIFO or a device is opened without blocking and
 * refused). No state
 * besides the open handle, owned by its caller.
 */
#ifndef TL_ELF_FILE_H
#define TL_ELF_FILE_H

#include <elf.h>
#include <stddef.h>

struct tl_elf {
    int fd;
    size_t size;          /* file size */
    Elf64_Shdr *sections; /* section headers, owned */
    unsigned nsections;
    char *names;          /* the section-name string table, owned, NUL-terminated */
    size_t names_size;
};

/* Opens path. Returns 0, or -1 when it cannot be read or is not a 64-bit LE ELF file. */
int tl_elf_open(struct tl_elf *e, const char *path);
/*
 * Reads section `name` into a new buffer (the caller frees it) and sets
 * *size. NULL when the section is absent, empty, NOBITS, compressed
 * (SHF_COMPRESSED: no zlib here) or does not fit in the file.
 */
unsigned char *tl_elf_section(const struct tl_elf *e, const char *name, size_t *size);
/* Writes the GNU build id as lower-case hex into hex. Returns its byte count, or 0. */
size_t tl_elf_build_id(const struct tl_elf *e, char *hex, size_t hex_size);
void tl_elf_close(struct tl_elf *e);

#endif
