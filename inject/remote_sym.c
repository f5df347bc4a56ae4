/*
 * remote_sym.c - symbol addresses in another process from the ELF file's
 * section headers: SHT_DYNSYM, its string table, and SHT_GNU_versym to
 * prefer the default version of a versioned name (pthread_create@@GLIBC_2.34
 * over pthread_create@GLIBC_2.2.5).
 */
#include "remote_sym.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc_maps.h"

/* What module_visit looks for and finds. */
struct module_search {
    tl_module_match_fn xMatch;
    struct tl_module *pOut;
    struct tl_module cand; /* the last matching mapping at file offset 0 */
    int haveCand;
};

/*
 * A library is loaded where its offset-0 mapping is followed by an
 * executable mapping of the same file. Files mapped only to be read (the
 * agent maps libc.so.6 to read its symbols) never get an executable part.
 */
static int module_visit(const struct tl_map *pMap, void *pCtx)
{
    struct module_search *pS = pCtx;
    if (pMap->zPath[0] != '/' || !pS->xMatch(tl_path_base(pMap->zPath))) {
        return 0;
    }
    if (pMap->offset == 0) {
        snprintf(pS->cand.zPath, sizeof(pS->cand.zPath), "%s", pMap->zPath);
        pS->cand.base = pMap->start;
        pS->cand.end = pMap->end;
        pS->haveCand = 1;
    }
    if (pMap->aPerm[2] != 'x' || !pS->haveCand || strcmp(pS->cand.zPath, pMap->zPath) != 0) {
        return 0;
    }
    *pS->pOut = pS->cand;
    /* A file replaced since it was mapped: its link map still has the plain path. */
    static const char zDeleted[] = " (deleted)";
    size_t n = strlen(pS->pOut->zPath);
    if (n > sizeof(zDeleted) - 1 &&
        strcmp(pS->pOut->zPath + n - (sizeof(zDeleted) - 1), zDeleted) == 0) {
        pS->pOut->zPath[n - (sizeof(zDeleted) - 1)] = '\0';
    }
    return 1;
}

/*
 * Find the first library loaded in pid whose base name xMatch accepts. Returns
 * 0 and fills p, -ENOENT when none is mapped, or -errno when the maps cannot
 * be read.
 */
int tl_module_find(pid_t pid, tl_module_match_fn xMatch, struct tl_module *p)
{
    struct module_search search = {.xMatch = xMatch, .pOut = p, .haveCand = 0};
    int rc = tl_maps_each(pid, module_visit, &search);
    return rc == 1 ? 0 : rc < 0 ? rc : -ENOENT;
}

/* Open the module's file as the target sees it. Returns an fd or -errno. */
static int module_open(pid_t pid, const struct tl_module *p)
{
    char zFile[PATH_MAX + 64];
    snprintf(zFile, sizeof(zFile), "/proc/%ld/root%s", (long)pid, p->zPath);
    int fd = open(zFile, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(zFile, sizeof(zFile), "/proc/%ld/map_files/%llx-%llx", (long)pid,
                 (unsigned long long)p->base, (unsigned long long)p->end);
        fd = open(zFile, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) {
        fd = open(p->zPath, O_RDONLY | O_CLOEXEC);
    }
    return fd < 0 ? -errno : fd;
}

/* Read n bytes at off into a new buffer (caller frees). NULL on failure. */
static void *read_alloc(int fd, uint64_t off, uint64_t n)
{
    if (n == 0 || n > (64u << 20)) {
        return NULL;
    }
    char *pBuf = malloc(n);
    uint64_t done = 0;
    while (pBuf != NULL && done < n) {
        ssize_t r = pread(fd, pBuf + done, n - done, (off_t)(off + done));
        if (r <= 0 && !(r < 0 && errno == EINTR)) {
            free(pBuf);
            return NULL;
        }
        done += r > 0 ? (uint64_t)r : 0;
    }
    return pBuf;
}

/* The tables of one ELF file that a lookup needs; every pointer is owned. */
struct elf_tables {
    Elf64_Ehdr *pEh;
    Elf64_Phdr *aPh;
    Elf64_Shdr *aSh;
    Elf64_Sym *aSym;
    size_t nSym;
    char *zStr;
    size_t nStr;
    Elf64_Half *aVer; /* NULL when the file has no versions */
};

static void tables_free(struct elf_tables *p)
{
    free(p->pEh);
    free(p->aPh);
    free(p->aSh);
    free(p->aSym);
    free(p->zStr);
    free(p->aVer);
}

/* Load .dynsym, its strings and versions. Returns 0 or -ENOEXEC. */
static int tables_load(int fd, struct elf_tables *p)
{
    memset(p, 0, sizeof(*p));
    p->pEh = read_alloc(fd, 0, sizeof(Elf64_Ehdr));
    if (p->pEh == NULL || memcmp(p->pEh->e_ident, ELFMAG, SELFMAG) != 0 ||
        p->pEh->e_ident[EI_CLASS] != ELFCLASS64 || p->pEh->e_shentsize != sizeof(Elf64_Shdr) ||
        p->pEh->e_phentsize != sizeof(Elf64_Phdr)) {
        return -ENOEXEC;
    }
    p->aPh = read_alloc(fd, p->pEh->e_phoff, (uint64_t)p->pEh->e_phnum * sizeof(Elf64_Phdr));
    p->aSh = read_alloc(fd, p->pEh->e_shoff, (uint64_t)p->pEh->e_shnum * sizeof(Elf64_Shdr));
    if (p->aPh == NULL || p->aSh == NULL) {
        return -ENOEXEC;
    }
    for (unsigned i = 0; i < p->pEh->e_shnum; i++) {
        const Elf64_Shdr *pSh = &p->aSh[i];
        if (pSh->sh_type == SHT_DYNSYM && pSh->sh_link < p->pEh->e_shnum) {
            const Elf64_Shdr *pStr = &p->aSh[pSh->sh_link];
            p->aSym = read_alloc(fd, pSh->sh_offset, pSh->sh_size);
            p->nSym = pSh->sh_size / sizeof(Elf64_Sym);
            p->zStr = read_alloc(fd, pStr->sh_offset, pStr->sh_size);
            p->nStr = pStr->sh_size;
        } else if (pSh->sh_type == SHT_GNU_versym) {
            p->aVer = read_alloc(fd, pSh->sh_offset, pSh->sh_size);
        }
    }
    return p->aSym != NULL && p->zStr != NULL ? 0 : -ENOEXEC;
}

/* The lowest PT_LOAD address, page-aligned: what maps at file offset 0. */
static uint64_t first_load_vaddr(const struct elf_tables *p)
{
    for (unsigned i = 0; i < p->pEh->e_phnum; i++) {
        if (p->aPh[i].p_type == PT_LOAD) {
            return p->aPh[i].p_vaddr & ~(uint64_t)0xfff;
        }
    }
    return 0;
}

/*
 * The value of function zName: its default version when versioned, else
 * any defined version. Returns 0 when it is not defined.
 */
static uint64_t sym_value(const struct elf_tables *p, const char *zName)
{
    uint64_t value = 0;
    for (size_t i = 1; i < p->nSym; i++) {
        const Elf64_Sym *pSym = &p->aSym[i];
        if (pSym->st_shndx == SHN_UNDEF || ELF64_ST_TYPE(pSym->st_info) != STT_FUNC ||
            pSym->st_name >= p->nStr || strcmp(p->zStr + pSym->st_name, zName) != 0) {
            continue;
        }
        int hidden = p->aVer != NULL && (p->aVer[i] & 0x8000) != 0;
        if (!hidden) {
            return pSym->st_value;
        }
        value = pSym->st_value;
    }
    return value;
}

/*
 * Look up the n functions azName in module p of pid; aAddr[i] receives the
 * address in the target, or 0 when the module does not define it. Returns
 * 0, or -errno / -ENOEXEC when the file cannot be read as 64-bit ELF.
 */
int tl_module_syms(pid_t pid, const struct tl_module *p, const char *const *azName,
                   uint64_t *aAddr, int n)
{
    int fd = module_open(pid, p);
    if (fd < 0) {
        return fd;
    }
    struct elf_tables tables;
    int rc = tables_load(fd, &tables);
    close(fd);
    if (rc == 0) {
        uint64_t bias = p->base - first_load_vaddr(&tables);
        for (int i = 0; i < n; i++) {
            uint64_t value = sym_value(&tables, azName[i]);
            aAddr[i] = value != 0 ? bias + value : 0;
        }
    }
    tables_free(&tables);
    return rc;
}
