/* elf_file.c - bounds-checked ELF section reading (see elf_file.h). */
#include "elf_file.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads exactly n bytes at off. Returns 0, or -1 on a short read or error. */
static int read_at(int fd, void *buf, size_t n, uint64_t off)
{
    size_t done = 0;
    while (done < n) {
        ssize_t got = pread(fd, (char *)buf + done, n - done, (off_t)(off + done));
        if (got <= 0)
            return -1;
        done += (size_t)got;
    }
    return 0;
}

/* Whether [off, off + n) lies inside a file of `size` bytes. */
static int fits(uint64_t off, uint64_t n, size_t size)
{
    return off <= size && n <= size - off;
}

/* A fresh copy of n bytes at off, NUL-terminated past the end. NULL on failure. */
static unsigned char *read_copy(const struct tl_elf *e, uint64_t off, uint64_t n)
{
    if (!fits(off, n, e->size))
        return NULL;
    unsigned char *buf = malloc((size_t)n + 1);
    if (!buf)
        return NULL;
    if (read_at(e->fd, buf, (size_t)n, off) < 0) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

static int read_headers(struct tl_elf *e)
{
    Elf64_Ehdr eh;
    if (e->size < sizeof eh || read_at(e->fd, &eh, sizeof eh, 0) < 0)
        return -1;
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_shentsize != sizeof(Elf64_Shdr))
        return -1;
    if (eh.e_shnum == 0 || eh.e_shstrndx >= eh.e_shnum)
        return -1; /* no sections, or the extended numbering: nothing to read */
    e->nsections = eh.e_shnum;
    e->sections = (Elf64_Shdr *)read_copy(e, eh.e_shoff,
                                          (uint64_t)e->nsections * sizeof(Elf64_Shdr));
    if (!e->sections)
        return -1;
    const Elf64_Shdr *names = &e->sections[eh.e_shstrndx];
    if (names->sh_type == SHT_NOBITS)
        return -1;
    e->names = (char *)read_copy(e, names->sh_offset, names->sh_size);
    e->names_size = names->sh_size;
    return e->names ? 0 : -1;
}

int tl_elf_open(struct tl_elf *e, const char *path)
{
    struct stat st;
    /* O_NONBLOCK: a FIFO or device named as a module must not block the open */
    *e = (struct tl_elf){.fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)};
    if (e->fd < 0 || fstat(e->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        tl_elf_close(e);
        return -1;
    }
    e->size = (size_t)st.st_size;
    if (read_headers(e) < 0) {
        tl_elf_close(e);
        return -1;
    }
    return 0;
}

/* The header of section `name`, or NULL. */
static const Elf64_Shdr *find(const struct tl_elf *e, const char *name)
{
    for (unsigned i = 0; i < e->nsections; i++) {
        uint32_t at = e->sections[i].sh_name;
        if (at < e->names_size && strcmp(e->names + at, name) == 0)
            return &e->sections[i];
    }
    return NULL;
}

unsigned char *tl_elf_section(const struct tl_elf *e, const char *name, size_t *size)
{
    const Elf64_Shdr *sh = find(e, name);
    *size = 0;
    if (!sh || sh->sh_type == SHT_NOBITS || sh->sh_size == 0 || (sh->sh_flags & SHF_COMPRESSED))
        return NULL;
    unsigned char *data = read_copy(e, sh->sh_offset, sh->sh_size);
    if (data)
        *size = (size_t)sh->sh_size;
    return data;
}

static size_t align4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

/* Walks the notes of one SHT_NOTE section for NT_GNU_BUILD_ID. Returns the id's length or 0. */
static size_t build_id_in(const unsigned char *p, size_t size, char *hex, size_t hex_size)
{
    size_t at = 0;
    while (size - at >= sizeof(Elf64_Nhdr)) {
        Elf64_Nhdr nh;
        memcpy(&nh, p + at, sizeof nh);
        at += sizeof nh;
        size_t name = align4(nh.n_namesz), desc = align4(nh.n_descsz);
        if (name > size - at || desc > size - at - name)
            return 0;
        if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && memcmp(p + at, "GNU", 4) == 0 &&
            nh.n_descsz > 0 && 2 * (size_t)nh.n_descsz < hex_size) {
            for (size_t i = 0; i < nh.n_descsz; i++)
                snprintf(hex + 2 * i, 3, "%02x", p[at + name + i]);
            return nh.n_descsz;
        }
        at += name + desc;
    }
    return 0;
}

size_t tl_elf_build_id(const struct tl_elf *e, char *hex, size_t hex_size)
{
    for (unsigned i = 0; i < e->nsections; i++) {
        const Elf64_Shdr *sh = &e->sections[i];
        if (sh->sh_type != SHT_NOTE || sh->sh_size > (1u << 20))
            continue;
        unsigned char *notes = read_copy(e, sh->sh_offset, sh->sh_size);
        size_t n = notes ? build_id_in(notes, (size_t)sh->sh_size, hex, hex_size) : 0;
        free(notes);
        if (n)
            return n;
    }
    return 0;
}

void tl_elf_close(struct tl_elf *e)
{
    if (e->fd >= 0)
        close(e->fd);
    free(e->sections);
    free(e->names);
    *e = (struct tl_elf){.fd = -1};
}
