/* got_patch.c - rebinding imports to the agent after a late load (see got_patch.h). */
#include "got_patch.h"

#include <dlfcn.h>
#include <elf.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "errors.h"
#include "log.h"
#include "real.h"

#if defined(__x86_64__)
#define TL_R_JUMP_SLOT R_X86_64_JUMP_SLOT
#define TL_R_GLOB_DAT R_X86_64_GLOB_DAT
#define TL_OLD_CONDVAR_VERSION "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define TL_R_JUMP_SLOT R_AARCH64_JUMP_SLOT
#define TL_R_GLOB_DAT R_AARCH64_GLOB_DAT
#define TL_OLD_CONDVAR_VERSION "" /* aarch64 never had the old condvar */
#else
#error "threadlens: GOT patching knows x86-64 and aarch64 relocations only"
#endif

#define MAX_PATCHES 32768
#define MAX_MODULES 1024

struct patch {
    void **slot;
    void *original;
    void *hook;
    uintptr_t module_base;
    int relro; /* the slot's page is read-only once relocated: mprotect around the store */
};

struct module {
    uintptr_t base;
    const char *name;
    const ElfW(Phdr) *phdr;
    int phnum;
};

/* What a module's dynamic section tells about its imports. */
struct imports {
    uintptr_t base;
    const ElfW(Sym) *symtab;
    const char *strtab;
    const ElfW(Half) *versym;
    const ElfW(Verneed) *verneed;
    const ElfW(Rela) *jmprel, *rela;
    size_t jmprel_size, rela_size;
    uintptr_t relro_lo, relro_hi;
};

static struct patch *patches; /* MAX_PATCHES entries from the arena */
static int npatches;
static pthread_mutex_t patch_lock = PTHREAD_MUTEX_INITIALIZER;
static void *self_handle;      /* our own handle: dlsym on it finds our definitions first */
static void *self_base;
static void *(*real_dlopen)(const char *, int);

static void *hooked_dlopen(const char *file, int mode);

/* Names the agent defines but must not bind: the process has started, the attach entries. */
static int never_hooked(const char *name)
{
    return strcmp(name, "__libc_start_main") == 0 || strncmp(name, "threadlens_attach", 17) == 0 ||
           strncmp(name, "threadlens_detach", 17) == 0;
}

/* The agent's function of that name, or NULL when the agent does not define one. */
static void *hook_for(const char *name)
{
    if (!name[0] || never_hooked(name))
        return NULL;
    if (strcmp(name, "dlopen") == 0)
        return (void *)hooked_dlopen;
    void *p = dlsym(self_handle, name);
    Dl_info info;
    if (!p || !dladdr(p, &info) || info.dli_fbase != self_base)
        return NULL; /* found in a dependency of ours (libc), not defined by us */
    return p;
}

/* glibc relocates most d_ptr entries in place; the vDSO and DT_VERNEED it does not. */
static const void *dyn_ptr(uintptr_t base, ElfW(Addr) value)
{
    return (const void *)(value < base ? value + base : value);
}

static void read_imports(const struct module *m, struct imports *im)
{
    memset(im, 0, sizeof *im);
    im->base = m->base;
    const ElfW(Dyn) *dyn = NULL;
    long page = sysconf(_SC_PAGESIZE);
    for (int i = 0; i < m->phnum; i++) {
        const ElfW(Phdr) *ph = &m->phdr[i];
        if (ph->p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *)(m->base + ph->p_vaddr);
        if (ph->p_type == PT_GNU_RELRO) {
            /* As glibc's _dl_protect_relro: a partial last page stays writable. */
            im->relro_lo = (m->base + ph->p_vaddr) & ~(uintptr_t)(page - 1);
            im->relro_hi = (m->base + ph->p_vaddr + ph->p_memsz) & ~(uintptr_t)(page - 1);
        }
    }
    for (; dyn && dyn->d_tag != DT_NULL; dyn++) {
        uintptr_t b = m->base;
        switch (dyn->d_tag) {
        case DT_SYMTAB: im->symtab = dyn_ptr(b, dyn->d_un.d_ptr); break;
        case DT_STRTAB: im->strtab = dyn_ptr(b, dyn->d_un.d_ptr); break;
        case DT_VERSYM: im->versym = dyn_ptr(b, dyn->d_un.d_ptr); break;
        case DT_VERNEED: im->verneed = dyn_ptr(b, dyn->d_un.d_ptr); break;
        case DT_JMPREL: im->jmprel = dyn_ptr(b, dyn->d_un.d_ptr); break;
        case DT_PLTRELSZ: im->jmprel_size = dyn->d_un.d_val; break;
        case DT_RELA: im->rela = dyn_ptr(b, dyn->d_un.d_ptr); break;
        case DT_RELASZ: im->rela_size = dyn->d_un.d_val; break;
        default: break;
        }
    }
}

/* The version a module asked for symbol `index` (GLIBC_2.3.2...), or "" when unversioned. */
static const char *import_version(const struct imports *im, size_t index)
{
    if (!im->versym || !im->verneed)
        return "";
    ElfW(Half) want = im->versym[index] & 0x7fff;
    const ElfW(Verneed) *vn = im->verneed;
    for (;;) {
        const ElfW(Vernaux) *aux = (const void *)((const char *)vn + vn->vn_aux);
        for (unsigned i = 0; i < vn->vn_cnt; i++) {
            if (aux->vna_other == want)
                return im->strtab + aux->vna_name;
            aux = (const void *)((const char *)aux + aux->vna_next);
        }
        if (!vn->vn_next)
            return "";
        vn = (const void *)((const char *)vn + vn->vn_next);
    }
}

/*
 * glibc keeps a pre-2.3.2 pthread_cond_* with another condvar layout; our
 * wrappers call the current one, which would corrupt an old-layout condvar.
 */
static int wants_old_condvar(const struct imports *im, const char *name, size_t index)
{
    return TL_OLD_CONDVAR_VERSION[0] && strncmp(name, "pthread_cond_", 13) == 0 &&
           strcmp(import_version(im, index), TL_OLD_CONDVAR_VERSION) == 0;
}

static int store_slot(void **slot, void *value, int relro)
{
    long page = sysconf(_SC_PAGESIZE);
    void *start = (void *)((uintptr_t)slot & ~(uintptr_t)(page - 1));
    if (relro && mprotect(start, (size_t)page, PROT_READ | PROT_WRITE) != 0)
        return -1;
    /* One aligned store: a thread calling through the slot sees the old or the new target. */
    __atomic_store_n(slot, value, __ATOMIC_RELEASE);
    if (relro)
        mprotect(start, (size_t)page, PROT_READ);
    return 0;
}

static void patch_one(const struct imports *im, const ElfW(Rela) *r)
{
    unsigned long type = ELF64_R_TYPE(r->r_info);
    size_t index = ELF64_R_SYM(r->r_info);
    if ((type != TL_R_JUMP_SLOT && type != TL_R_GLOB_DAT) || index == 0)
        return;
    const char *name = im->strtab + im->symtab[index].st_name;
    void *hook = hook_for(name);
    if (!hook || wants_old_condvar(im, name, index))
        return;
    void **slot = (void **)(im->base + r->r_offset);
    /*
     * A slot patched before and since rebound (lazy binding raced us) is
     * patched again as a new record: restore walks newest first and puts
     * back only slots still holding our hook, so the slot gets the value
     * it held before its last patch.
     */
    if (*slot == hook || npatches >= MAX_PATCHES)
        return;
    uintptr_t at = (uintptr_t)slot;
    int relro = at >= im->relro_lo && at < im->relro_hi;
    void *original = *slot;
    if (store_slot(slot, hook, relro) < 0)
        return;
    patches[npatches++] = (struct patch){slot, original, hook, im->base, relro};
}

static void patch_relocations(const struct imports *im, const ElfW(Rela) *rel, size_t size)
{
    if (!rel)
        return;
    for (size_t i = 0; i < size / sizeof *rel; i++)
        patch_one(im, &rel[i]);
}

static int skipped_module(uintptr_t base)
{
    return base == (uintptr_t)self_base || base == getauxval(AT_BASE) ||
           base == getauxval(AT_SYSINFO_EHDR);
}

struct module_list {
    struct module *items;
    int count;
};

static int collect_module(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct module_list *list = data;
    if (list->count < MAX_MODULES && !skipped_module(info->dlpi_addr))
        list->items[list->count++] = (struct module){info->dlpi_addr, info->dlpi_name,
                                                     info->dlpi_phdr, info->dlpi_phnum};
    return 0;
}

static int find_self(void)
{
    if (self_handle)
        return 0;
    Dl_info info;
    if (!dladdr((void *)tl_got_patch_all, &info) || !info.dli_fname)
        return TL_EINVAL;
    self_base = info.dli_fbase;
    self_handle = dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD);
    *(void **)&real_dlopen = dlsym(RTLD_NEXT, "dlopen");
    patches = tl_arena_alloc(MAX_PATCHES * sizeof *patches);
    return self_handle && real_dlopen && patches ? 0 : TL_ENOMEM;
}

int tl_got_patch_all(void)
{
    TL_REAL(mutex_lock)(&patch_lock);
    int rc = find_self();
    if (rc == 0) {
        /*
         * Collected first, patched after: dl_iterate_phdr holds the loader's
         * write lock and dlsym takes its load lock, the reverse of dlopen.
         */
        static struct module items[MAX_MODULES];
        struct module_list list = {items, 0};
        dl_iterate_phdr(collect_module, &list);
        int before = npatches;
        for (int i = 0; i < list.count; i++) {
            struct imports im;
            read_imports(&items[i], &im);
            if (!im.symtab || !im.strtab)
                continue;
            patch_relocations(&im, im.jmprel, im.jmprel_size);
            patch_relocations(&im, im.rela, im.rela_size);
        }
        rc = npatches - before;
    }
    TL_REAL(mutex_unlock)(&patch_lock);
    return rc;
}

static int module_loaded(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    return info->dlpi_addr == *(uintptr_t *)data;
}

void tl_got_restore_all(void)
{
    TL_REAL(mutex_lock)(&patch_lock);
    for (int i = npatches - 1; i >= 0; i--) {
        struct patch *p = &patches[i];
        uintptr_t base = p->module_base;
        if (!dl_iterate_phdr(module_loaded, &base))
            continue; /* unloaded since: its slots are gone with it */
        if (*p->slot == p->hook)
            store_slot(p->slot, p->original, p->relro);
    }
    npatches = 0;
    TL_REAL(mutex_unlock)(&patch_lock);
}

int tl_got_patched_count(void)
{
    return npatches;
}

/* ---- dlopen: modules loaded after the attach ---- */

/* The string value of a DT_RUNPATH or DT_RPATH entry of this module, or NULL. */
static const char *search_path_of(const struct link_map *lm)
{
    const char *strtab = NULL;
    ElfW(Sxword) found = 0;
    ElfW(Addr) offset = 0;
    for (const ElfW(Dyn) *d = lm->l_ld; d && d->d_tag != DT_NULL; d++) {
        if (d->d_tag == DT_STRTAB)
            strtab = dyn_ptr(lm->l_addr, d->d_un.d_ptr);
        else if ((d->d_tag == DT_RUNPATH || d->d_tag == DT_RPATH) && found != DT_RUNPATH) {
            found = d->d_tag;
            offset = d->d_un.d_val;
        }
    }
    return strtab && found ? strtab + offset : NULL;
}

/* Expands $ORIGIN and ${ORIGIN} in one search directory. */
static void expand_origin(const char *dir, size_t len, const char *origin, char *out, size_t size)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < size;) {
        size_t skip = strncmp(dir + i, "$ORIGIN", 7) == 0     ? 7
                      : strncmp(dir + i, "${ORIGIN}", 9) == 0 ? 9
                                                              : 0;
        if (skip) {
            n += (size_t)snprintf(out + n, size - n, "%s", origin);
            i += skip;
        } else {
            out[n++] = dir[i++];
        }
    }
    out[n < size ? n : size - 1] = '\0';
}

/*
 * dlopen("libx.so") searches the RUNPATH of the module that called it, which
 * glibc finds by return address: called from here, that would be ours. So a
 * bare name from a module with a search path is looked up in that path first.
 */
static const char *caller_relative(const char *file, void *caller, char *out, size_t size)
{
    Dl_info info;
    struct link_map *lm = NULL;
    if (!file || strchr(file, '/') || !dladdr1(caller, &info, (void **)&lm, RTLD_DL_LINKMAP) || !lm)
        return file;
    const char *path = search_path_of(lm);
    if (!path)
        return file;
    char origin[PATH_MAX];
    snprintf(origin, sizeof origin, "%s", lm->l_name[0] ? lm->l_name : "/proc/self/exe");
    if (!lm->l_name[0] && !realpath("/proc/self/exe", origin))
        return file;
    char *slash = strrchr(origin, '/');
    if (slash)
        *slash = '\0';
    for (const char *p = path; *p;) {
        size_t len = strcspn(p, ":");
        char dir[PATH_MAX];
        struct stat st;
        expand_origin(p, len, origin, dir, sizeof dir);
        if (snprintf(out, size, "%s/%s", dir, file) < (int)size && stat(out, &st) == 0)
            return out;
        p += len + (p[len] == ':');
    }
    return file;
}

static void *hooked_dlopen(const char *file, int mode)
{
    char path[PATH_MAX];
    const char *which = caller_relative(file, __builtin_return_address(0), path, sizeof path);
    void *handle = real_dlopen(which, mode);
    if (!handle && which != file)
        handle = real_dlopen(file, mode);
    if (handle && npatches > 0)
        tl_got_patch_all(); /* new imports bind to the agent like the old ones */
    return handle;
}
