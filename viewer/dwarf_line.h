/*
 * dwarf_line.h - a DWARF line-number table reader (.debug_line, versions 2
 * to 5): runs each unit's line program and keeps its rows sorted by address,
 * so an address maps to the source file and line of the instruction there.
 * Input comes from untrusted files: every read is bounds-checked, a unit
 * that does not parse is skipped (the units before it are kept), and nothing
 * here can crash on garbage. Plain memory, no I/O; symbolize.c feeds it the
 * sections of an ELF file. One table per module, owned by its caller.
 */
#ifndef TL_DWARF_LINE_H
#define TL_DWARF_LINE_H

#include <stddef.h>
#include <stdint.h>

/* A section's bytes; data NULL (size 0) when the file has no such section. */
struct tl_dwarf_section {
    const unsigned char *data;
    size_t size;
};

/* The sections a line program may read: .debug_line and its string tables. */
struct tl_dwarf_sections {
    struct tl_dwarf_section line;     /* .debug_line */
    struct tl_dwarf_section line_str; /* .debug_line_str (DW_FORM_line_strp, DWARF 5) */
    struct tl_dwarf_section str;      /* .debug_str (DW_FORM_strp) */
};

struct tl_line_table;

/*
 * Parses every unit of sec->line. Returns the table (possibly with no rows
 * when nothing parsed), or NULL when memory runs out. Free it with
 * tl_line_table_free(). The table copies what it keeps: `sec` may go away.
 */
struct tl_line_table *tl_line_table_parse(const struct tl_dwarf_sections *sec);
/*
 * Finds the row covering `addr` (a link-time virtual address). Returns 0 and
 * sets *file (owned by the table) and *line, or -1 when no row covers it or
 * its line is unknown (0).
 */
int tl_line_table_find(const struct tl_line_table *t, uint64_t addr, const char **file,
                       unsigned *line);
/* Number of rows kept (for tests). */
size_t tl_line_table_rows(const struct tl_line_table *t);
void tl_line_table_free(struct tl_line_table *t);

#endif
