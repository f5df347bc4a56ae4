/*
 * export_pprof.c - --pprof: build a profile.proto message from the database
 * and write it gzip-compressed (gzip.c). Sections: interning tables, the
 * profile builder (strings, mappings, functions, locations, samples), the
 * three profile kinds, and the entry point.
 *
 * Addresses: the database keeps a frame as (module, offset), stable under
 * ASLR. Each module becomes one Mapping with a made-up, non-overlapping
 * address range (memory_start = mapping id << 40, file_offset 0), and a
 * location's address is memory_start + offset, so address - memory_start +
 * file_offset gives back the module offset, as pprof computes it. Functions
 * are already named (the agent's symbol table lookup); a frame without a name
 * gets "module+0xOFFSET", so has_functions is set and pprof does not try to
 * symbolize again.
 */
#include "export_pprof.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gzip.h"
#include "protobuf.h"
#include "utf8.h"
#include "xalloc.h"

#define MAPPING_SHIFT 40 /* bits of module offset a made-up mapping range holds */
#define MAX_FRAMES 256   /* frames per sample kept from a (hostile) long stack */

/* profile.proto field numbers */
enum {
    PROFILE_SAMPLE_TYPE = 1, PROFILE_SAMPLE, PROFILE_MAPPING, PROFILE_LOCATION,
    PROFILE_FUNCTION, PROFILE_STRING_TABLE, PROFILE_TIME_NANOS = 9, PROFILE_DURATION_NANOS,
    PROFILE_PERIOD_TYPE, PROFILE_PERIOD, PROFILE_COMMENT, PROFILE_DEFAULT_SAMPLE_TYPE,
};
enum { VALUE_TYPE_TYPE = 1, VALUE_TYPE_UNIT };
enum { SAMPLE_LOCATION_ID = 1, SAMPLE_VALUE, SAMPLE_LABEL };
enum { LABEL_KEY = 1, LABEL_STR, LABEL_NUM };
enum {
    MAPPING_ID = 1, MAPPING_MEMORY_START, MAPPING_MEMORY_LIMIT, MAPPING_FILE_OFFSET,
    MAPPING_FILENAME, MAPPING_HAS_FUNCTIONS = 7,
};
enum { LOCATION_ID = 1, LOCATION_MAPPING_ID, LOCATION_ADDRESS, LOCATION_LINE };
enum { LINE_FUNCTION_ID = 1 };
enum { FUNCTION_ID = 1, FUNCTION_NAME, FUNCTION_SYSTEM_NAME };

/* ---- interning tables --------------------------------------------------- */

/* String -> id, open addressing. Keys are copies the map owns. */
struct strmap {
    char **keys;     /* NULL: empty slot */
    uint64_t *ids;   /* id of keys[i] */
    size_t cap;      /* slots, a power of two */
    size_t len;      /* keys in use */
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static size_t strmap_slot(const struct strmap *m, const char *key)
{
    size_t i = (size_t)hash_str(key) & (m->cap - 1);

    while (m->keys[i] && strcmp(m->keys[i], key) != 0)
        i = (i + 1) & (m->cap - 1);
    return i;
}

static void strmap_grow(struct strmap *m)
{
    struct strmap bigger = {.cap = m->cap ? m->cap * 2 : 64};

    bigger.keys = tl_xcalloc(bigger.cap, sizeof(*bigger.keys));
    bigger.ids = tl_xcalloc(bigger.cap, sizeof(*bigger.ids));
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i]) {
            size_t j = strmap_slot(&bigger, m->keys[i]);

            bigger.keys[j] = m->keys[i];
            bigger.ids[j] = m->ids[i];
        }
    }
    bigger.len = m->len;
    free(m->keys);
    free(m->ids);
    *m = bigger;
}

/* Returns key's id; *added tells whether it was new and got id next_id. */
static uint64_t strmap_intern(struct strmap *m, const char *key, uint64_t next_id, bool *added)
{
    size_t i;

    if (2 * (m->len + 1) > m->cap)
        strmap_grow(m);
    i = strmap_slot(m, key);
    *added = m->keys[i] == NULL;
    if (*added) {
        m->keys[i] = tl_xstrdup(key);
        m->ids[i] = next_id;
        m->len++;
    }
    return m->ids[i];
}

static void strmap_free(struct strmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->ids);
}

/* ---- the profile builder ------------------------------------------------ */

struct mapping {
    uint64_t filename;   /* string index of the module path */
    uint64_t max_offset; /* largest module offset seen in it */
};

struct builder {
    struct tl_db *db;
    struct strmap strings;      /* string -> string table index */
    struct tl_pb string_table;  /* encoded string_table fields */
    struct strmap functions;    /* name -> Function.id */
    struct tl_pb functions_pb;  /* encoded function fields */
    struct strmap locations;    /* frame key -> Location.id */
    struct tl_pb locations_pb;  /* encoded location fields */
    struct strmap modules;      /* module path -> Mapping.id */
    struct mapping *mappings;   /* [Mapping.id - 1] */
    size_t n_mappings;
    struct tl_pb samples;       /* encoded sample fields */
    struct tl_pb scratch;       /* one message while it is built */
    sqlite3_stmt *frames;       /* module, offset, function of stack ?1 */
};

/*
 * Returns the string table index of s, adding it. profile.proto strings must
 * be UTF-8: a byte that is not becomes U+FFFD (names longer than the buffer
 * are cut).
 */
static uint64_t str_index(struct builder *b, const char *s)
{
    char clean[4096];
    bool added;
    uint64_t id;

    tl_utf8_sanitize(clean, sizeof(clean), s);
    id = strmap_intern(&b->strings, clean, b->strings.len, &added);
    if (added)
        tl_pb_string(&b->string_table, PROFILE_STRING_TABLE, clean);
    return id;
}

static int builder_init(struct builder *b, struct tl_db *db)
{
    memset(b, 0, sizeof(*b));
    b->db = db;
    str_index(b, ""); /* string_table[0] must be "" */
    b->frames = tl_db_prepare(db, "SELECT module, offset, function FROM frame"
                                  " WHERE stack = ?1 ORDER BY idx");
    return b->frames ? 0 : -EIO;
}

static void builder_free(struct builder *b)
{
    sqlite3_finalize(b->frames);
    strmap_free(&b->strings);
    strmap_free(&b->functions);
    strmap_free(&b->locations);
    strmap_free(&b->modules);
    free(b->mappings);
    tl_pb_free(&b->string_table);
    tl_pb_free(&b->functions_pb);
    tl_pb_free(&b->locations_pb);
    tl_pb_free(&b->samples);
    tl_pb_free(&b->scratch);
}

static uint64_t mapping_id(struct builder *b, const char *module)
{
    bool added;
    uint64_t id = strmap_intern(&b->modules, module, b->n_mappings + 1, &added);

    if (added) {
        b->mappings = tl_xrealloc(b->mappings, b->n_mappings + 1, sizeof(*b->mappings));
        b->mappings[b->n_mappings++] = (struct mapping){.filename = str_index(b, module)};
    }
    return id;
}

static uint64_t function_id(struct builder *b, const char *name)
{
    bool added;
    uint64_t id = strmap_intern(&b->functions, name, b->functions.len + 1, &added);

    if (added) {
        uint64_t s = str_index(b, name);

        tl_pb_clear(&b->scratch);
        tl_pb_uint(&b->scratch, FUNCTION_ID, id);
        tl_pb_uint(&b->scratch, FUNCTION_NAME, s);
        tl_pb_uint(&b->scratch, FUNCTION_SYSTEM_NAME, s);
        tl_pb_message(&b->functions_pb, PROFILE_FUNCTION, &b->scratch);
    }
    return id;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

/* The function name shown for a frame: its symbol, else module+0xOFFSET. */
static void frame_name(char *buf, size_t len, const char *module, int64_t offset,
                       const char *function)
{
    if (function && function[0] && strcmp(function, "??") != 0)
        snprintf(buf, len, "%s", function);
    else if (module && module[0])
        snprintf(buf, len, "%s+0x%" PRIx64, base_name(module), (uint64_t)offset);
    else
        snprintf(buf, len, "??");
}

/* Returns the Location.id of one frame row, adding it (and what it needs). */
static uint64_t location_id(struct builder *b, const char *module, int64_t offset,
                            const char *function)
{
    char name[512], key[600];
    uint64_t map = 0, address = 0, id;
    bool added;

    if (offset < 0 || (uint64_t)offset >> MAPPING_SHIFT)
        module = NULL; /* no room in a made-up range: keep the name only */
    frame_name(name, sizeof(name), module, offset, function);
    if (module && module[0]) {
        map = mapping_id(b, module);
        address = (map << MAPPING_SHIFT) + (uint64_t)offset;
        snprintf(key, sizeof(key), "%" PRIu64 ":%" PRIx64 ":%s", map, address, name);
    } else {
        snprintf(key, sizeof(key), "-:%s", name);
    }
    id = strmap_intern(&b->locations, key, b->locations.len + 1, &added);
    if (added) {
        struct tl_pb line;
        uint64_t fn = function_id(b, name);

        if (map && (uint64_t)offset > b->mappings[map - 1].max_offset)
            b->mappings[map - 1].max_offset = (uint64_t)offset;
        tl_pb_init(&line);
        tl_pb_uint(&line, LINE_FUNCTION_ID, fn);
        tl_pb_clear(&b->scratch);
        tl_pb_uint(&b->scratch, LOCATION_ID, id);
        tl_pb_uint(&b->scratch, LOCATION_MAPPING_ID, map);
        tl_pb_uint(&b->scratch, LOCATION_ADDRESS, address);
        tl_pb_message(&b->scratch, LOCATION_LINE, &line);
        tl_pb_message(&b->locations_pb, PROFILE_LOCATION, &b->scratch);
        tl_pb_free(&line);
    }
    return id;
}

static const char *column_text(sqlite3_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(st, col);
}

/*
 * Fills ids with the Location.ids of stack's frames, leaf first (frame.idx 0
 * is the innermost frame, as Sample.location_id wants). Returns the count,
 * or -EIO.
 */
static int stack_locations(struct builder *b, int64_t stack, uint64_t *ids)
{
    int n = 0, rc;

    sqlite3_reset(b->frames);
    sqlite3_bind_int64(b->frames, 1, stack);
    while ((rc = sqlite3_step(b->frames)) == SQLITE_ROW && n < MAX_FRAMES) {
        int64_t offset = sqlite3_column_type(b->frames, 1) == SQLITE_NULL
                             ? 0 : sqlite3_column_int64(b->frames, 1);

        ids[n++] = location_id(b, column_text(b->frames, 0), offset, column_text(b->frames, 2));
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return tl_db_fail(b->db);
    return n;
}

struct label {
    const char *key;   /* NULL ends the list */
    const char *str;   /* string value, or NULL for num */
    int64_t num;       /* numeric value when str is NULL */
};

/*
 * Adds one sample: the stack's locations (none when stack is NULL in the
 * database, passed as -1), n values and the labels. Returns 0 or -EIO.
 */
static int add_sample(struct builder *b, int64_t stack, const int64_t *values, size_t n,
                      const struct label *labels)
{
    uint64_t ids[MAX_FRAMES], vals[8];
    int depth = stack < 0 ? 0 : stack_locations(b, stack, ids);
    struct tl_pb label;

    if (depth < 0)
        return depth;
    for (size_t i = 0; i < n; i++)
        vals[i] = (uint64_t)values[i];
    tl_pb_init(&label);
    tl_pb_clear(&b->scratch);
    tl_pb_packed(&b->scratch, SAMPLE_LOCATION_ID, ids, (size_t)depth);
    tl_pb_packed(&b->scratch, SAMPLE_VALUE, vals, n);
    for (; labels && labels->key; labels++) {
        tl_pb_clear(&label);
        tl_pb_uint(&label, LABEL_KEY, str_index(b, labels->key));
        if (labels->str)
            tl_pb_uint(&label, LABEL_STR, str_index(b, labels->str));
        else
            tl_pb_int(&label, LABEL_NUM, labels->num);
        tl_pb_message(&b->scratch, SAMPLE_LABEL, &label);
    }
    tl_pb_free(&label);
    tl_pb_message(&b->samples, PROFILE_SAMPLE, &b->scratch);
    return 0;
}

static void put_value_type(struct builder *b, struct tl_pb *out, unsigned field,
                           const char *type, const char *unit)
{
    struct tl_pb vt;

    tl_pb_init(&vt);
    tl_pb_uint(&vt, VALUE_TYPE_TYPE, str_index(b, type));
    tl_pb_uint(&vt, VALUE_TYPE_UNIT, str_index(b, unit));
    tl_pb_message(out, field, &vt);
    tl_pb_free(&vt);
}

static void put_mappings(struct builder *b, struct tl_pb *out)
{
    for (size_t i = 0; i < b->n_mappings; i++) {
        uint64_t id = i + 1, start = id << MAPPING_SHIFT;

        tl_pb_clear(&b->scratch);
        tl_pb_uint(&b->scratch, MAPPING_ID, id);
        tl_pb_uint(&b->scratch, MAPPING_MEMORY_START, start);
        tl_pb_uint(&b->scratch, MAPPING_MEMORY_LIMIT, start + b->mappings[i].max_offset + 1);
        tl_pb_uint(&b->scratch, MAPPING_FILENAME, b->mappings[i].filename);
        tl_pb_uint(&b->scratch, MAPPING_HAS_FUNCTIONS, 1);
        tl_pb_message(out, PROFILE_MAPPING, &b->scratch);
    }
}

/* Appends already encoded fields. */
static void append_raw(struct tl_pb *out, const struct tl_pb *part)
{
    tl_pb_raw(out, part->data, part->len);
}

/* ---- profile kinds ------------------------------------------------------ */

/* What a kind declares about itself, and the process it profiles. */
struct profile {
    int64_t proc;          /* process.id */
    int64_t pid;           /* process.pid */
    const char *exe;       /* may be NULL */
    int64_t start_ns;      /* process.start_ns, or 0 */
    int64_t end_ns;        /* end_ns, else the last sample, else start_ns */
    const char *types[4][2]; /* sample types: {type, unit}; unused ones NULL */
    const char *period_type[2];
    int64_t period;
    const char *default_type; /* default_sample_type, or NULL */
    char comment[256];     /* what the values mean */
};

static int64_t col_int(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, col);
}

/* Steps a query to the end; returns 0 or -EIO. */
static int finish_query(struct builder *b, sqlite3_stmt *st, int rc)
{
    sqlite3_finalize(st);
    if (rc < 0)
        return rc;
    if (rc != SQLITE_DONE)
        return tl_db_fail(b->db);
    return 0;
}

/* The agent's sampling period: meta 'sample_bytes' when recorded, else the default. */
static int64_t heap_period(struct builder *b)
{
    sqlite3_stmt *st = tl_db_prepare(b->db, "SELECT value FROM meta WHERE key = 'sample_bytes'");
    int64_t period = TL_PPROF_DEFAULT_PERIOD;

    if (!st) /* an older database: not fatal */
        return period;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0)
        period = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return period;
}

/*
 * heap: one sample per allocation site, from its latest site_sample. The
 * agent stores unbiased estimates (each sampled block stands for 1/p
 * blocks), so values are already scaled, as Go writes them. The database has
 * no count of allocations per site: alloc_objects is estimated from
 * alloc_bytes with the mean block size of the site's latest live blocks, and
 * is the live count when no block was ever seen live.
 */
static int profile_heap(struct builder *b, struct profile *p)
{
    /* one pass over site_sample each: a bare column next to max() comes from that row */
    static const char sql[] =
        "WITH latest AS (SELECT site, live_bytes, live_count, alloc_bytes, max(t_ns)"
        "  FROM site_sample WHERE proc = ?1 GROUP BY site),"
        " ratio AS (SELECT site, CAST(live_count AS REAL) / live_bytes AS per_byte, max(t_ns)"
        "  FROM site_sample WHERE proc = ?1 AND live_count > 0 AND live_bytes > 0 GROUP BY site)"
        " SELECT a.stack, l.live_bytes, l.live_count, l.alloc_bytes, r.per_byte"
        " FROM alloc_site a JOIN latest l ON l.site = a.id LEFT JOIN ratio r ON r.site = a.id"
        " WHERE a.proc = ?1 ORDER BY a.id";
    sqlite3_stmt *st = tl_db_prepare(b->db, sql);
    int rc = 0;

    memcpy(p->types, (const char *[4][2]){{"alloc_objects", "count"}, {"alloc_space", "bytes"},
                                          {"inuse_objects", "count"}, {"inuse_space", "bytes"}},
           sizeof(p->types));
    p->period_type[0] = "space";
    p->period_type[1] = "bytes";
    p->period = heap_period(b);
    p->default_type = "inuse_space";
    snprintf(p->comment, sizeof(p->comment),
             "threadlens heap profile: estimates from allocations sampled every %" PRId64
             " bytes on average; alloc_objects estimated from the mean live block size",
             p->period);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, p->proc);
    while (rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t live_bytes = col_int(st, 1), live_count = col_int(st, 2);
        int64_t alloc_bytes = col_int(st, 3), alloc_count = live_count;

        if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
            double est = (double)alloc_bytes * sqlite3_column_double(st, 4);

            if (est > (double)alloc_count && est < 9e18)
                alloc_count = (int64_t)(est + 0.5);
        }
        rc = add_sample(b, sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 : col_int(st, 0),
                        (int64_t[]){alloc_count, alloc_bytes, live_count, live_bytes}, 4, NULL);
    }
    return finish_query(b, st, rc);
}

/*
 * mutex: one sample per contended lock (contentions or wait time), at the
 * stack where the agent first saw the lock, labelled with the lock's name
 * (or address) and kind. The database keeps totals per lock, not per
 * contended acquisition stack.
 */
static int profile_mutex(struct builder *b, struct profile *p)
{
    static const char sql[] =
        "SELECT first_stack, coalesce(name, printf('0x%x', addr)), kind, contentions, wait_ns,"
        " acquisitions FROM lock WHERE proc = ?1"
        " AND (coalesce(contentions, 0) > 0 OR coalesce(wait_ns, 0) > 0) ORDER BY id";
    sqlite3_stmt *st = tl_db_prepare(b->db, sql);
    int rc = 0;

    p->types[0][0] = "contentions", p->types[0][1] = "count";
    p->types[1][0] = "delay", p->types[1][1] = "nanoseconds";
    p->period_type[0] = "contentions";
    p->period_type[1] = "count";
    p->period = 1;
    snprintf(p->comment, sizeof(p->comment),
             "threadlens mutex profile: every contended acquisition, at each lock's first stack");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, p->proc);
    while (rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = column_text(st, 1), *kind = column_text(st, 2);
        struct label labels[4] = {{"lock", name ? name : "?", 0}, {"kind", kind ? kind : "?", 0},
                                  {"acquisitions", NULL, col_int(st, 5)}, {NULL, NULL, 0}};

        rc = add_sample(b, sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 : col_int(st, 0),
                        (int64_t[]){col_int(st, 3), col_int(st, 4)}, 2, labels);
    }
    return finish_query(b, st, rc);
}

/*
 * threads: threads created per creation stack (Go's threadcreate profile),
 * and how many of them had not ended by the end of the data. Threads without
 * a creation stack (the main thread, threads the agent found already running)
 * are left out.
 */
static int profile_threads(struct builder *b, struct profile *p)
{
    static const char sql[] =
        "SELECT create_stack, count(*), sum(end_ns IS NULL) FROM thread"
        " WHERE proc = ?1 AND create_stack IS NOT NULL GROUP BY create_stack ORDER BY 2 DESC, 1";
    sqlite3_stmt *st = tl_db_prepare(b->db, sql);
    int rc = 0;

    p->types[0][0] = "threadcreate", p->types[0][1] = "count";
    p->types[1][0] = "alive", p->types[1][1] = "count";
    p->period_type[0] = "threadcreate";
    p->period_type[1] = "count";
    p->period = 1;
    p->default_type = "threadcreate";
    snprintf(p->comment, sizeof(p->comment),
             "threadlens threads profile: threads created at each stack; alive: not ended");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, p->proc);
    while (rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
        rc = add_sample(b, col_int(st, 0), (int64_t[]){col_int(st, 1), col_int(st, 2)}, 2, NULL);
    return finish_query(b, st, rc);
}

/* ---- entry point -------------------------------------------------------- */

static const struct {
    const char *name;
    int (*build)(struct builder *b, struct profile *p);
} kinds[] = {
    {"heap", profile_heap},
    {"mutex", profile_mutex},
    {"threads", profile_threads},
};

/* Returns 1 when kind names a profile --pprof writes, else 0. */
int tl_pprof_kind_valid(const char *kind)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(kinds[i].name, kind) == 0)
            return 1;
    return 0;
}

static int set_err(char *err, size_t len, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int set_err(char *err, size_t len, int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return rc;
}

/*
 * Finds the process to profile: the first row of `process` (by id) with that
 * pid, or the first row when pid is TL_PPROF_ANY_PID. Its exe is copied into
 * exe. Returns 0, -ENOENT when there is none, or -EIO.
 */
static int pick_process(struct builder *b, int64_t pid, struct profile *p, char *exe, size_t len)
{
    sqlite3_stmt *st = tl_db_prepare(
        b->db, "SELECT id, pid, exe, start_ns, coalesce(end_ns,"
               " (SELECT max(t_ns) FROM sample s WHERE s.proc = process.id), start_ns)"
               " FROM process WHERE ?1 < 0 OR pid = ?1 ORDER BY id LIMIT 1");
    int rc;

    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, pid);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *e = column_text(st, 2);

        p->proc = sqlite3_column_int64(st, 0);
        p->pid = sqlite3_column_int64(st, 1);
        snprintf(exe, len, "%s", e ? e : "");
        p->exe = e ? exe : NULL;
        p->start_ns = col_int(st, 3);
        p->end_ns = col_int(st, 4);
        if (p->start_ns <= 0 || p->end_ns < p->start_ns) /* unknown or damaged */
            p->end_ns = p->start_ns;
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? -ENOENT : tl_db_fail(b->db);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Assembles the Profile message from the builder's parts into out. */
static void assemble(struct builder *b, const struct profile *p, struct tl_pb *out)
{
    char comment[512];
    uint64_t comments[2];
    size_t n_comments = 0;

    for (int i = 0; i < 4 && p->types[i][0]; i++)
        put_value_type(b, out, PROFILE_SAMPLE_TYPE, p->types[i][0], p->types[i][1]);
    append_raw(out, &b->samples);
    put_mappings(b, out);
    append_raw(out, &b->locations_pb);
    append_raw(out, &b->functions_pb);
    tl_pb_int(out, PROFILE_TIME_NANOS, p->start_ns);
    if (p->end_ns > p->start_ns)
        tl_pb_int(out, PROFILE_DURATION_NANOS, p->end_ns - p->start_ns);
    put_value_type(b, out, PROFILE_PERIOD_TYPE, p->period_type[0], p->period_type[1]);
    tl_pb_int(out, PROFILE_PERIOD, p->period);
    snprintf(comment, sizeof(comment), "pid %" PRId64 " %s", p->pid, p->exe ? p->exe : "");
    comments[n_comments++] = str_index(b, comment);
    comments[n_comments++] = str_index(b, p->comment);
    tl_pb_packed(out, PROFILE_COMMENT, comments, n_comments);
    if (p->default_type)
        tl_pb_uint(out, PROFILE_DEFAULT_SAMPLE_TYPE, str_index(b, p->default_type));
    append_raw(out, &b->string_table); /* last: every string is interned by now */
}

static int build(struct builder *b, const char *kind, int64_t pid, struct tl_pb *out, char *err,
                 size_t errlen)
{
    struct profile p = {0};
    char exe[4096];
    int rc = pick_process(b, pid, &p, exe, sizeof(exe));

    if (rc == -ENOENT && pid != TL_PPROF_ANY_PID)
        return set_err(err, errlen, rc, "no process with pid %" PRId64 " in the database", pid);
    if (rc == -ENOENT)
        return set_err(err, errlen, rc, "the database has no process");
    if (rc == 0 && p.exe)
        mapping_id(b, p.exe); /* mapping[0] is the main binary, by convention */
    for (size_t i = 0; rc == 0 && i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(kinds[i].name, kind) == 0)
            rc = kinds[i].build(b, &p) < 0 ? -EIO : 1;
    if (rc == 0)
        return set_err(err, errlen, -EINVAL, "unknown profile kind '%s' (heap, mutex, threads)",
                       kind);
    if (rc < 0)
        return set_err(err, errlen, rc, "%s", tl_db_error(b->db));
    assemble(b, &p, out);
    return 0;
}

/*
 * Writes the `kind` profile of process `pid` (TL_PPROF_ANY_PID: the first
 * one) to out, gzip-compressed. Returns 0, or a negative errno with a
 * one-line message in err: -EINVAL unknown kind, -ENOENT no such process,
 * -EIO a database or write error.
 */
int tl_export_pprof(struct tl_db *db, const char *kind, int64_t pid, FILE *out, char *err,
                    size_t errlen)
{
    struct builder b;
    struct tl_pb profile;
    int rc;

    if (!tl_pprof_kind_valid(kind))
        return set_err(err, errlen, -EINVAL, "unknown profile kind '%s' (heap, mutex, threads)",
                       kind);
    if (tl_db_begin(db) != 0)
        return set_err(err, errlen, -EIO, "%s", tl_db_error(db));
    tl_pb_init(&profile);
    rc = builder_init(&b, db);
    if (rc == 0)
        rc = build(&b, kind, pid, &profile, err, errlen);
    else
        set_err(err, errlen, rc, "%s", tl_db_error(db));
    builder_free(&b);
    tl_db_end(db);
    if (rc == 0 && tl_gzip_write(out, profile.data, profile.len) != 0)
        rc = set_err(err, errlen, -EIO, "cannot write the profile: %s", strerror(errno));
    tl_pb_free(&profile);
    return rc;
}
