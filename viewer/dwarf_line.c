/*
 * dwarf_line.c - DWARF 2-5 line-number programs to sorted rows (see
 * dwarf_line.h). Sections: a bounds-checked reader, the unit header (file
 * and directory tables in both the v2-4 and the v5 encodings), the line
 * state machine, and the sorted row table with its lookup.
 */
#include "dwarf_line.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROWS (8u << 20) /* hostile input cannot make the table grow past this */
#define NO_FILE UINT32_MAX

/* DW_LNS_*, DW_LNE_*, DW_FORM_*, DW_LNCT_* values from the DWARF 5 standard. */
enum {
    LNS_COPY = 1, LNS_ADVANCE_PC, LNS_ADVANCE_LINE, LNS_SET_FILE, LNS_SET_COLUMN,
    LNS_NEGATE_STMT, LNS_SET_BASIC_BLOCK, LNS_CONST_ADD_PC, LNS_FIXED_ADVANCE_PC,
};
enum { LNE_END_SEQUENCE = 1, LNE_SET_ADDRESS = 2, LNE_DEFINE_FILE = 3 };
enum {
    FORM_DATA2 = 0x05, FORM_DATA4 = 0x06, FORM_DATA8 = 0x07, FORM_STRING = 0x08,
    FORM_BLOCK = 0x09, FORM_BLOCK1 = 0x0a, FORM_DATA1 = 0x0b, FORM_STRP = 0x0e,
    FORM_UDATA = 0x0f, FORM_STRX = 0x1a, FORM_DATA16 = 0x1e, FORM_LINE_STRP = 0x1f,
    FORM_STRX1 = 0x25, FORM_STRX2 = 0x26, FORM_STRX3 = 0x27, FORM_STRX4 = 0x28,
};
enum { LNCT_PATH = 1, LNCT_DIRECTORY_INDEX = 2 };

struct row {
    uint64_t addr;
    uint32_t file;  /* index into the table's files, or NO_FILE */
    uint32_t line;
    uint32_t order; /* emission order: among equal addresses the later row wins */
    bool end;       /* end_sequence: the first address after a sequence */
};

struct tl_line_table {
    struct row *rows;
    size_t nrows, cap_rows;
    char **files; /* "dir/name" paths, owned */
    size_t nfiles, cap_files;
};

/* ---- bounds-checked reader: once `ok` is false every read returns 0 ---- */

struct reader {
    const unsigned char *p, *end;
    bool ok;
};

static bool need(struct reader *r, size_t n)
{
    if (!r->ok || (size_t)(r->end - r->p) < n) {
        r->ok = false;
        return false;
    }
    return true;
}

static uint64_t read_uint(struct reader *r, size_t n)
{
    uint64_t v = 0;
    if (!need(r, n))
        return 0;
    for (size_t i = 0; i < n; i++) /* DWARF in little-endian ELF files only */
        v |= (uint64_t)r->p[i] << (8 * i);
    r->p += n;
    return v;
}

static void skip(struct reader *r, uint64_t n)
{
    if (n > SIZE_MAX || !need(r, (size_t)n))
        return;
    r->p += n;
}

static uint64_t read_uleb(struct reader *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
        if (!need(r, 1))
            return 0;
        unsigned char b = *r->p++;
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
}

static int64_t read_sleb(struct reader *r)
{
    uint64_t v = 0;
    unsigned shift = 0;
    unsigned char b;
    do {
        if (!need(r, 1))
            return 0;
        b = *r->p++;
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
    } while (b & 0x80);
    if (shift < 64 && (b & 0x40))
        v |= ~(uint64_t)0 << shift;
    return (int64_t)v;
}

/* A NUL-terminated string inside the reader's bounds, or NULL. */
static const char *read_cstr(struct reader *r)
{
    if (!r->ok)
        return NULL;
    const unsigned char *nul = memchr(r->p, 0, (size_t)(r->end - r->p));
    if (!nul) {
        r->ok = false;
        return NULL;
    }
    const char *s = (const char *)r->p;
    r->p = nul + 1;
    return s;
}

/* The string at `off` in a string section, or NULL when it is not inside it. */
static const char *section_string(const struct tl_dwarf_section *s, uint64_t off)
{
    if (!s->data || off >= s->size)
        return NULL;
    if (!memchr(s->data + off, 0, s->size - (size_t)off))
        return NULL;
    return (const char *)s->data + off;
}

/* ---- the table ---- */

static int add_row(struct tl_line_table *t, uint64_t addr, uint32_t file, uint32_t line, bool end)
{
    if (t->nrows >= MAX_ROWS)
        return -1;
    if (t->nrows == t->cap_rows) {
        size_t cap = t->cap_rows ? 2 * t->cap_rows : 1024;
        struct row *grown = realloc(t->rows, cap * sizeof *grown);
        if (!grown)
            return -1;
        t->rows = grown;
        t->cap_rows = cap;
    }
    t->rows[t->nrows] = (struct row){addr, file, line, (uint32_t)t->nrows, end};
    t->nrows++;
    return 0;
}

/* Appends "dir/name" (or name alone when absolute or dir unknown). Returns its index. */
static uint32_t add_file(struct tl_line_table *t, const char *dir, const char *name)
{
    if (!name || t->nfiles >= NO_FILE - 1)
        return NO_FILE;
    if (t->nfiles == t->cap_files) {
        size_t cap = t->cap_files ? 2 * t->cap_files : 64;
        char **grown = realloc(t->files, cap * sizeof *grown);
        if (!grown)
            return NO_FILE;
        t->files = grown;
        t->cap_files = cap;
    }
    bool join = dir && dir[0] && name[0] != '/';
    size_t nd = join ? strlen(dir) : 0, nn = strlen(name);
    char *path = malloc(nd + 1 + nn + 1);
    if (!path)
        return NO_FILE;
    if (join) {
        memcpy(path, dir, nd);
        path[nd++] = '/';
    }
    memcpy(path + nd, name, nn + 1);
    t->files[t->nfiles] = path;
    return (uint32_t)t->nfiles++;
}

/* ---- one unit's header ---- */

#define MAX_DIRS 4096
#define MAX_UNIT_FILES 65536

struct unit {
    unsigned version;
    unsigned offset_size;  /* 4, or 8 in 64-bit DWARF */
    unsigned min_inst;
    bool default_is_stmt;
    int line_base;
    unsigned line_range;
    unsigned opcode_base;
    const unsigned char *std_lengths; /* opcode_base - 1 operand counts */
    uint32_t *files;       /* unit file index -> table file index */
    size_t nfiles;
    const char *dirs[MAX_DIRS];
    size_t ndirs;
};

static void unit_add_file(struct tl_line_table *t, struct unit *u, uint64_t dir, const char *name)
{
    if (u->nfiles >= MAX_UNIT_FILES)
        return;
    uint32_t *grown = realloc(u->files, (u->nfiles + 1) * sizeof *grown);
    if (!grown)
        return;
    u->files = grown;
    u->files[u->nfiles++] = add_file(t, dir < u->ndirs ? u->dirs[dir] : NULL, name);
}

/* DWARF 2-4: include_directories then file_names, each list ending with an empty string. */
static void read_v4_tables(struct reader *r, struct tl_line_table *t, struct unit *u)
{
    u->dirs[u->ndirs++] = NULL; /* index 0: the compilation directory, not recorded here */
    for (;;) {
        const char *dir = read_cstr(r);
        if (!dir || !dir[0])
            break;
        if (u->ndirs < MAX_DIRS)
            u->dirs[u->ndirs++] = dir;
    }
    while (r->ok) {
        const char *name = read_cstr(r);
        if (!name || !name[0])
            break;
        uint64_t dir = read_uleb(r);
        read_uleb(r); /* mtime */
        read_uleb(r); /* length */
        unit_add_file(t, u, dir, name);
    }
}

/*
 * One attribute value of a v5 directory or file entry: a string (*str) or a
 * number (*num). Returns false on a form this reader cannot size.
 */
static bool read_form(struct reader *r, const struct unit *u, const struct tl_dwarf_sections *sec,
                      uint64_t form, const char **str, uint64_t *num)
{
    *str = NULL;
    *num = 0;
    switch (form) {
    case FORM_STRING: *str = read_cstr(r); break;
    case FORM_LINE_STRP: *str = section_string(&sec->line_str, read_uint(r, u->offset_size)); break;
    case FORM_STRP: *str = section_string(&sec->str, read_uint(r, u->offset_size)); break;
    case FORM_UDATA: *num = read_uleb(r); break;
    case FORM_DATA1: *num = read_uint(r, 1); break;
    case FORM_DATA2: *num = read_uint(r, 2); break;
    case FORM_DATA4: *num = read_uint(r, 4); break;
    case FORM_DATA8: *num = read_uint(r, 8); break;
    case FORM_DATA16: skip(r, 16); break;
    case FORM_BLOCK: skip(r, read_uleb(r)); break;
    case FORM_BLOCK1: skip(r, read_uint(r, 1)); break;
    case FORM_STRX: read_uleb(r); break; /* needs .debug_str_offsets: name unknown */
    case FORM_STRX1: skip(r, 1); break;
    case FORM_STRX2: skip(r, 2); break;
    case FORM_STRX3: skip(r, 3); break;
    case FORM_STRX4: skip(r, 4); break;
    default: return false;
    }
    return r->ok;
}

/* DWARF 5: an entry format (content type, form pairs) then the entries, for dirs or files. */
static bool read_v5_list(struct reader *r, struct tl_line_table *t, struct unit *u,
                         const struct tl_dwarf_sections *sec, bool dirs)
{
    uint64_t formats[2 * 16];
    unsigned nformats = (unsigned)read_uint(r, 1);
    if (nformats > 16)
        return false;
    for (unsigned i = 0; i < 2 * nformats; i++)
        formats[i] = read_uleb(r);
    uint64_t count = read_uleb(r);
    if (nformats == 0 || count > (uint64_t)(r->end - r->p))
        return count == 0; /* entries without attributes would take no bytes: reject */
    for (uint64_t e = 0; e < count && r->ok; e++) {
        const char *path = NULL;
        uint64_t dir = 0;
        for (unsigned i = 0; i < nformats; i++) {
            const char *s;
            uint64_t v;
            if (!read_form(r, u, sec, formats[2 * i + 1], &s, &v))
                return false;
            if (formats[2 * i] == LNCT_PATH)
                path = s;
            else if (formats[2 * i] == LNCT_DIRECTORY_INDEX)
                dir = v;
        }
        if (dirs && u->ndirs < MAX_DIRS)
            u->dirs[u->ndirs++] = path;
        else if (!dirs)
            unit_add_file(t, u, dir, path);
    }
    return r->ok;
}

/*
 * Reads a unit header from r (positioned after unit_length). On success the
 * reader is at the first opcode. Returns false when the header is invalid.
 */
static bool read_header(struct reader *r, struct tl_line_table *t, struct unit *u,
                        const struct tl_dwarf_sections *sec)
{
    u->version = (unsigned)read_uint(r, 2);
    if (u->version < 2 || u->version > 5)
        return false;
    if (u->version >= 5)
        skip(r, 2); /* address_size, segment_selector_size */
    uint64_t header_length = read_uint(r, u->offset_size);
    if (!r->ok || header_length > (uint64_t)(r->end - r->p))
        return false;
    const unsigned char *program = r->p + header_length;
    struct reader h = {r->p, program, true};
    u->min_inst = (unsigned)read_uint(&h, 1);
    if (u->version >= 4)
        read_uint(&h, 1); /* maximum_operations_per_instruction: VLIW only */
    u->default_is_stmt = read_uint(&h, 1) != 0;
    u->line_base = (int8_t)read_uint(&h, 1);
    u->line_range = (unsigned)read_uint(&h, 1);
    u->opcode_base = (unsigned)read_uint(&h, 1);
    if (!h.ok || u->line_range == 0 || u->opcode_base == 0 || !need(&h, u->opcode_base - 1))
        return false;
    u->std_lengths = h.p;
    h.p += u->opcode_base - 1;
    if (u->version >= 5) {
        if (!read_v5_list(&h, t, u, sec, true) || !read_v5_list(&h, t, u, sec, false))
            return false;
    } else {
        read_v4_tables(&h, t, u);
    }
    r->p = program;
    return true;
}

/* ---- the line state machine ---- */

struct state {
    uint64_t addr;
    uint64_t file;
    int64_t line;
};

static void reset(struct state *s)
{
    *s = (struct state){.addr = 0, .file = 1, .line = 1}; /* file 1 in every version */
}

static uint32_t table_file(const struct unit *u, uint64_t file)
{
    uint64_t i = u->version >= 5 ? file : file - 1;
    return file == 0 && u->version < 5 ? NO_FILE : i < u->nfiles ? u->files[i] : NO_FILE;
}

static int emit(struct tl_line_table *t, const struct unit *u, const struct state *s, bool end)
{
    uint32_t line = s->line > 0 && s->line <= UINT32_MAX ? (uint32_t)s->line : 0;
    return add_row(t, s->addr, table_file(u, s->file), line, end);
}

/* An extended opcode (after the 0 byte). Returns false on a malformed one. */
static bool extended_op(struct reader *r, struct tl_line_table *t, struct unit *u,
                        struct state *s, size_t *seq_start)
{
    uint64_t len = read_uleb(r);
    if (!r->ok || len == 0 || len > (uint64_t)(r->end - r->p))
        return false;
    struct reader op = {r->p, r->p + len, true};
    r->p += len;
    switch (read_uint(&op, 1)) {
    case LNE_END_SEQUENCE:
        if (emit(t, u, s, true) < 0)
            return false;
        *seq_start = t->nrows;
        reset(s);
        break;
    case LNE_SET_ADDRESS:
        if (len - 1 != 8 && len - 1 != 4)
            return false;
        s->addr = read_uint(&op, (size_t)(len - 1));
        break;
    case LNE_DEFINE_FILE: {
        const char *name = read_cstr(&op);
        uint64_t dir = read_uleb(&op);
        if (op.ok)
            unit_add_file(t, u, dir, name);
        break;
    }
    default: /* set_discriminator and vendor opcodes: nothing we use */
        break;
    }
    return op.ok;
}

/* A standard opcode below opcode_base. Returns false on a malformed one. */
static bool standard_op(struct reader *r, struct tl_line_table *t, const struct unit *u,
                        struct state *s, unsigned op)
{
    switch (op) {
    case LNS_COPY: return emit(t, u, s, false) == 0;
    case LNS_ADVANCE_PC: s->addr += read_uleb(r) * u->min_inst; break;
    case LNS_ADVANCE_LINE: s->line += read_sleb(r); break;
    case LNS_SET_FILE: s->file = read_uleb(r); break;
    case LNS_CONST_ADD_PC:
        s->addr += (uint64_t)((255 - u->opcode_base) / u->line_range) * u->min_inst;
        break;
    case LNS_FIXED_ADVANCE_PC: s->addr += read_uint(r, 2); break;
    case LNS_NEGATE_STMT:
    case LNS_SET_BASIC_BLOCK: break;
    default: /* set_column, prologue_end, isa and unknown ones: skip their operands */
        for (unsigned i = 0; i < u->std_lengths[op - 1]; i++)
            read_uleb(r);
        break;
    }
    return r->ok;
}

/*
 * Runs the program in r. Rows of a sequence that did not end (a truncated
 * or malformed program) are dropped: without their end they would claim
 * every address after them.
 */
static void run_program(struct reader *r, struct tl_line_table *t, struct unit *u)
{
    struct state s;
    size_t seq_start = t->nrows;
    bool ok = true;
    reset(&s);
    while (ok && r->p < r->end) {
        unsigned op = (unsigned)read_uint(r, 1);
        if (op == 0) {
            ok = extended_op(r, t, u, &s, &seq_start);
        } else if (op >= u->opcode_base) {
            unsigned adjusted = op - u->opcode_base;
            s.addr += (uint64_t)(adjusted / u->line_range) * u->min_inst;
            s.line += u->line_base + (int)(adjusted % u->line_range);
            ok = emit(t, u, &s, false) == 0;
        } else {
            ok = standard_op(r, t, u, &s, op);
        }
    }
    t->nrows = seq_start;
}

/* Parses the unit at r's position and moves r past it. Returns false when r cannot go on. */
static bool parse_unit(struct reader *r, struct tl_line_table *t,
                       const struct tl_dwarf_sections *sec)
{
    struct unit u = {.offset_size = 4};
    uint64_t length = read_uint(r, 4);
    if (length == 0xffffffffu) {
        u.offset_size = 8;
        length = read_uint(r, 8);
    } else if (length >= 0xfffffff0u) {
        return false; /* reserved values */
    }
    if (!r->ok || length > (uint64_t)(r->end - r->p))
        return false;
    struct reader unit = {r->p, r->p + length, true};
    r->p += length;
    if (read_header(&unit, t, &u, sec))
        run_program(&unit, t, &u);
    free(u.files);
    return true;
}

static int row_cmp(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    if (x->end != y->end)
        return x->end ? -1 : 1; /* a sequence's end before the next one's start */
    return x->order < y->order ? -1 : x->order > y->order;
}

struct tl_line_table *tl_line_table_parse(const struct tl_dwarf_sections *sec)
{
    struct tl_line_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    if (sec->line.data) {
        struct reader r = {sec->line.data, sec->line.data + sec->line.size, true};
        while (r.p < r.end && parse_unit(&r, t, sec))
            continue;
    }
    if (t->nrows)
        qsort(t->rows, t->nrows, sizeof *t->rows, row_cmp);
    return t;
}

int tl_line_table_find(const struct tl_line_table *t, uint64_t addr, const char **file,
                       unsigned *line)
{
    size_t lo = 0, hi = t ? t->nrows : 0;
    while (lo < hi) { /* first row with a greater address */
        size_t mid = lo + (hi - lo) / 2;
        if (t->rows[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return -1;
    const struct row *row = &t->rows[lo - 1];
    if (row->end || row->line == 0 || row->file == NO_FILE)
        return -1;
    *file = t->files[row->file];
    *line = row->line;
    return 0;
}

size_t tl_line_table_rows(const struct tl_line_table *t)
{
    return t ? t->nrows : 0;
}

void tl_line_table_free(struct tl_line_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nfiles; i++)
        free(t->files[i]);
    free(t->files);
    free(t->rows);
    free(t);
}
