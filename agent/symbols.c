/* symbols.c - ELF symbol lookup for stacks and lock names (see symbols.h). */
#include "symbols.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct sym {
    uintptr_t value;
    uintptr_t size;
    const char *name;  /* points into the mapped file */
};

struct module {
    char *path;
    uintptr_t bias;    /* dlpi_addr */
    uintptr_t lo, hi;  /* mapped address range of its PT_LOAD segments */
    struct sym *syms;  /* sorted by value */
    size_t nsyms;
    int loaded;        /* symbols read (or tried) */
};

static struct module *modules;  /* collector only */
static size_t nmodules;
static char exe_path[4096];
static int may_refresh = 1; /* one module rescan per tick at most: heap addresses miss */

static int sym_cmp(const void *a, const void *b)
{
    const struct sym *x = a, *y = b;
    return x->value < y->value ? -1 : x->value > y->value;
}

static const Elf64_Shdr *find_symtab(const Elf64_Ehdr *eh, size_t size, uint32_t type)
{
    if (eh->e_shoff == 0 || eh->e_shoff + (size_t)eh->e_shnum * sizeof(Elf64_Shdr) > size)
        return NULL;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)((const char *)eh + eh->e_shoff);
    for (int i = 0; i < eh->e_shnum; i++)
        if (sh[i].sh_type == type && sh[i].sh_link < eh->e_shnum)
            return &sh[i];
    return NULL;
}

static void read_symbols(struct module *m)
{
    m->loaded = 1;
    int fd = open(m->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    void *map = MAP_FAILED;
    if (fstat(fd, &st) == 0 && st.st_size > (off_t)sizeof(Elf64_Ehdr))
        map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return;
    size_t size = (size_t)st.st_size;
    const Elf64_Ehdr *eh = map;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64)
        return;
    const Elf64_Shdr *symtab = find_symtab(eh, size, SHT_SYMTAB);
    if (!symtab)
        symtab = find_symtab(eh, size, SHT_DYNSYM);
    if (!symtab)
        return;
    const Elf64_Shdr *sections = (const Elf64_Shdr *)((const char *)eh + eh->e_shoff);
    const Elf64_Shdr *strtab = &sections[symtab->sh_link];
    if (symtab->sh_offset + symtab->sh_size > size || strtab->sh_offset + strtab->sh_size > size)
        return;
    const Elf64_Sym *s = (const Elf64_Sym *)((const char *)map + symtab->sh_offset);
    size_t n = symtab->sh_size / sizeof *s;
    const char *names = (const char *)map + strtab->sh_offset;
    m->syms = calloc(n ? n : 1, sizeof *m->syms);
    if (!m->syms)
        return;
    for (size_t i = 0; i < n; i++) {
        int type = ELF64_ST_TYPE(s[i].st_info);
        if ((type != STT_FUNC && type != STT_OBJECT && type != STT_GNU_IFUNC) ||
            s[i].st_shndx == SHN_UNDEF || s[i].st_value == 0 || s[i].st_name >= strtab->sh_size)
            continue;
        m->syms[m->nsyms++] = (struct sym){s[i].st_value, s[i].st_size, names + s[i].st_name};
    }
    qsort(m->syms, m->nsyms, sizeof *m->syms, sym_cmp);
    /* The mapping stays: symbol names point into it. */
}

void tl_symbols_set_exe(const char *path)
{
    snprintf(exe_path, sizeof exe_path, "%s", path);
}

static const char *module_path(const char *name)
{
    return name && name[0] ? name : exe_path;
}

static int add_module(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (start < lo)
            lo = start;
        if (start + ph->p_memsz > hi)
            hi = start + ph->p_memsz;
    }
    const char *path = module_path(info->dlpi_name);
    if (hi == 0 || !path[0])
        return 0;
    for (size_t i = 0; i < nmodules; i++)
        if (modules[i].bias == info->dlpi_addr && strcmp(modules[i].path, path) == 0) {
            modules[i].lo = lo;
            modules[i].hi = hi;
            return 0;
        }
    struct module *grown = realloc(modules, (nmodules + 1) * sizeof *modules);
    if (!grown)
        return 1;
    modules = grown;
    modules[nmodules++] = (struct module){.path = strdup(path), .bias = info->dlpi_addr,
                                          .lo = lo, .hi = hi};
    return 0;
}

/* Rescans the module list; symbol tables are kept by path. */
static void refresh_modules(void)
{
    may_refresh = 0;
    /* Entries of unloaded modules stay (ranges emptied): their symbols may be wanted again. */
    for (size_t i = 0; i < nmodules; i++)
        modules[i].lo = modules[i].hi = 0;
    dl_iterate_phdr(add_module, NULL);
}

static struct module *module_of(uintptr_t addr)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < nmodules; i++)
            if (addr >= modules[i].lo && addr < modules[i].hi)
                return &modules[i];
        if (!may_refresh)
            break;
        refresh_modules(); /* a module may have been loaded since we last looked */
    }
    return NULL;
}

static const struct sym *symbol_of(struct module *m, uintptr_t vaddr)
{
    if (!m->loaded)
        read_symbols(m);
    size_t lo = 0, hi = m->nsyms;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->syms[mid].value <= vaddr)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* Walk back over symbols starting at the same place or enclosing ones. */
    for (size_t i = lo; i-- > 0 && lo - i <= 8;) {
        const struct sym *s = &m->syms[i];
        if (vaddr < s->value + (s->size ? s->size : 1))
            return s;
    }
    return NULL;
}

int tl_symbols_lookup(uintptr_t addr, struct tl_symbol *out)
{
    *out = (struct tl_symbol){0};
    struct module *m = module_of(addr);
    if (!m)
        return -1;
    out->module = m->path;
    out->offset = addr - m->bias;
    const struct sym *s = symbol_of(m, out->offset);
    if (s) {
        out->name = s->name;
        out->name_offset = out->offset - s->value;
    }
    return 0;
}

void tl_symbols_tick(void)
{
    may_refresh = 1;
}
