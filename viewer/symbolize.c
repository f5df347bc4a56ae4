/* symbolize.c - per-module line tables, cached by path (see symbolize.h). */
#include "symbolize.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dwarf_line.h"
#include "elf_file.h"
#include "load.h"
#include "xalloc.h"

#define DEBUG_ROOT "/usr/lib/debug"

struct module {
    char *path;
    struct tl_line_table *lines; /* NULL: no usable debug info */
};

static struct module *modules; /* the cache; the viewer's only thread */
static size_t nmodules;

/* The line table of an open ELF file, or NULL when it has no .debug_line. */
static struct tl_line_table *lines_of(const struct tl_elf *e)
{
    struct tl_dwarf_sections sec;
    memset(&sec, 0, sizeof sec);
    unsigned char *line = tl_elf_section(e, ".debug_line", &sec.line.size);
    if (!line)
        return NULL;
    unsigned char *line_str = tl_elf_section(e, ".debug_line_str", &sec.line_str.size);
    unsigned char *str = tl_elf_section(e, ".debug_str", &sec.str.size);
    sec.line.data = line;
    sec.line_str.data = line_str;
    sec.str.data = str;
    struct tl_line_table *t = tl_line_table_parse(&sec);
    free(line);
    free(line_str);
    free(str);
    return t;
}

static struct tl_line_table *lines_of_path(const char *path)
{
    struct tl_elf e;
    if (tl_elf_open(&e, path) < 0)
        return NULL;
    struct tl_line_table *t = lines_of(&e);
    tl_elf_close(&e);
    return t;
}

/* .gnu_debuglink's file name, checked to be a plain name. NULL when absent. */
static char *debuglink_of(const struct tl_elf *e)
{
    size_t size;
    char *link = (char *)tl_elf_section(e, ".gnu_debuglink", &size);
    if (link && (!link[0] || strchr(link, '/'))) {
        free(link);
        return NULL;
    }
    return link; /* read_copy NUL-terminates past the section's end */
}

/* The separate debug file's line table, by build id, then by debug link. NULL when none. */
static struct tl_line_table *separate_lines(const struct tl_elf *e, const char *module)
{
    char path[PATH_MAX], id[130];
    struct tl_line_table *t = NULL;
    if (tl_elf_build_id(e, id, sizeof id) > 1) {
        snprintf(path, sizeof path, DEBUG_ROOT "/.build-id/%.2s/%s.debug", id, id + 2);
        t = lines_of_path(path);
    }
    char *link = debuglink_of(e);
    const char *slash = strrchr(module, '/');
    int dir = slash ? (int)(slash - module) : 0;
    static const char *const forms[] = {"%.*s/%s", "%.*s/.debug/%s", DEBUG_ROOT "%.*s/%s"};
    for (size_t i = 0; link && !t && i < sizeof forms / sizeof forms[0]; i++) {
        if (snprintf(path, sizeof path, forms[i], dir, module, link) >= (int)sizeof path ||
            strcmp(path, module) == 0)
            continue;
        t = lines_of_path(path);
        if (t && tl_line_table_rows(t) == 0) {
            tl_line_table_free(t);
            t = NULL;
        }
    }
    free(link);
    return t;
}

static struct tl_line_table *load_module(const char *path)
{
    struct tl_elf e;
    if (tl_elf_open(&e, path) < 0)
        return NULL;
    struct tl_line_table *t = lines_of(&e);
    if (!t || tl_line_table_rows(t) == 0) {
        tl_line_table_free(t);
        t = separate_lines(&e, path);
    }
    tl_elf_close(&e);
    return t;
}

static const struct module *module_for(const char *path)
{
    for (size_t i = 0; i < nmodules; i++)
        if (strcmp(modules[i].path, path) == 0)
            return &modules[i];
    modules = tl_xrealloc(modules, nmodules + 1, sizeof *modules);
    modules[nmodules] = (struct module){tl_xstrdup(path), load_module(path)};
    return &modules[nmodules++];
}

int tl_symbolize(const char *module, int64_t offset, const char **file, unsigned *line)
{
    if (!module || module[0] != '/' || offset == TL_NULL || offset < 0)
        return -1;
    const struct module *m = module_for(module);
    return m->lines ? tl_line_table_find(m->lines, (uint64_t)offset, file, line) : -1;
}

void tl_symbolize_reset(void)
{
    for (size_t i = 0; i < nmodules; i++) {
        free(modules[i].path);
        tl_line_table_free(modules[i].lines);
    }
    free(modules);
    modules = NULL;
    nmodules = 0;
}
