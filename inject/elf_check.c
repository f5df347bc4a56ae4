/*
 * elf_check.c - read an ELF file's program headers and look for PT_INTERP.
 * Handles ELFCLASS32 and ELFCLASS64 in the host's byte order; anything else
 * is reported as not ELF, so the launcher just runs it.
 */
#include "elf_check.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* pread exactly n bytes at off. Returns 0, or -EIO on a short read, -errno. */
static int read_at(int fd, void *pBuf, size_t n, off_t off)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, (char *)pBuf + done, n - done, off + (off_t)done);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            return -errno;
        }
        if (r == 0) {
            return -EIO;
        }
        done += (size_t)r;
    }
    return 0;
}

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define TL_ELF_HOST_DATA ELFDATA2LSB
#else
#define TL_ELF_HOST_DATA ELFDATA2MSB
#endif

/*
 * Walk nPhdr program headers of size szPhdr at offPhdr, looking at p_type
 * only (the first 4 bytes of both Elf32_Phdr and Elf64_Phdr).
 */
static int scan_phdrs(int fd, uint64_t offPhdr, unsigned nPhdr, unsigned szPhdr)
{
    if (szPhdr < sizeof(uint32_t)) {
        return TL_ELF_NOT_ELF;
    }
    for (unsigned i = 0; i < nPhdr; i++) {
        uint32_t type;
        int rc = read_at(fd, &type, sizeof(type), (off_t)(offPhdr + (uint64_t)i * szPhdr));
        if (rc < 0) {
            return rc;
        }
        if (type == PT_INTERP) {
            return TL_ELF_DYNAMIC;
        }
    }
    return TL_ELF_STATIC;
}

/*
 * Classify the executable at zPath. Returns TL_ELF_DYNAMIC, TL_ELF_STATIC or
 * TL_ELF_NOT_ELF, or a negative errno when the file cannot be read. Only
 * ET_EXEC and ET_DYN files are classified (static-pie is ET_DYN without
 * PT_INTERP; a shared library run directly is ET_DYN with one).
 */
int tl_elf_check(const char *zPath)
{
    int fd = open(zPath, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    unsigned char aIdent[EI_NIDENT];
    int rc = read_at(fd, aIdent, sizeof(aIdent), 0);
    if (rc < 0 || memcmp(aIdent, ELFMAG, SELFMAG) != 0 || aIdent[EI_DATA] != TL_ELF_HOST_DATA) {
        close(fd);
        return (rc == -EIO || rc == 0) ? TL_ELF_NOT_ELF : rc;
    }
    if (aIdent[EI_CLASS] == ELFCLASS64) {
        Elf64_Ehdr eh;
        rc = read_at(fd, &eh, sizeof(eh), 0);
        if (rc == 0) {
            rc = (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
                     ? TL_ELF_NOT_ELF
                     : scan_phdrs(fd, eh.e_phoff, eh.e_phnum, eh.e_phentsize);
        }
    } else if (aIdent[EI_CLASS] == ELFCLASS32) {
        Elf32_Ehdr eh;
        rc = read_at(fd, &eh, sizeof(eh), 0);
        if (rc == 0) {
            rc = (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
                     ? TL_ELF_NOT_ELF
                     : scan_phdrs(fd, eh.e_phoff, eh.e_phnum, eh.e_phentsize);
        }
    } else {
        rc = TL_ELF_NOT_ELF;
    }
    close(fd);
    return rc == -EIO ? TL_ELF_NOT_ELF : rc;
}
