/* suppress.c - suppression rules and their matching (see suppress.h). */
#include "suppress.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"

struct rule {
    char kind[32];
    char pattern[256];
};

struct tl_suppressions {
    struct rule *rules;
    size_t n;
};

static const char *const kinds[] = {
    TL_KIND_LOCK_ORDER, TL_KIND_DEADLOCK,      TL_KIND_LOCK_MISUSE, TL_KIND_THREAD_LEAK,
    TL_KIND_BLOCKED,    TL_KIND_THREAD_GROWTH, TL_KIND_TASK_LEAK,   TL_KIND_TASK_GROWTH,
    TL_KIND_MEMORY_GROWTH, TL_KIND_MEMORY_LEAK, TL_KIND_LIMIT,
};

/* The finding kind a rule names, or NULL: LSan's `leak` means memory-leak. */
static const char *known_kind(const char *kind)
{
    if (strcmp(kind, "leak") == 0)
        return TL_KIND_MEMORY_LEAK;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kind, kinds[i]) == 0)
            return kinds[i];
    return NULL;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Parses one line into `r`. Returns 1 for a rule, 0 for nothing, -1 for an error. */
static int parse_line(char *line, struct rule *r, char *err, size_t errsize, int lineno)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    line = trim(line);
    if (!*line)
        return 0;
    char *colon = strchr(line, ':');
    const char *kind = NULL;
    if (colon) {
        *colon = '\0';
        kind = known_kind(trim(line));
    }
    char *pattern = colon ? trim(colon + 1) : NULL;
    if (!kind || !*pattern || strlen(pattern) >= sizeof r->pattern) {
        snprintf(err, errsize, "line %d: expected KIND:PATTERN with a threadlens kind", lineno);
        return -1;
    }
    snprintf(r->kind, sizeof r->kind, "%s", kind);
    snprintf(r->pattern, sizeof r->pattern, "%s", pattern);
    return 1;
}

struct tl_suppressions *tl_supp_load(const char *path, char *err, size_t errsize)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(err, errsize, "cannot read %s", path);
        return NULL;
    }
    struct tl_suppressions *s = calloc(1, sizeof *s);
    size_t cap = 0;
    char line[512];
    int lineno = 0, bad = !s;
    while (!bad && fgets(line, sizeof line, f)) {
        lineno++;
        struct rule r;
        int rc = parse_line(line, &r, err, errsize, lineno);
        if (rc < 0) {
            bad = 1;
        } else if (rc > 0) {
            if (s->n == cap) {
                cap = cap ? cap * 2 : 16;
                struct rule *grown = realloc(s->rules, cap * sizeof *grown);
                if (!grown) {
                    snprintf(err, errsize, "out of memory");
                    bad = 1;
                    break;
                }
                s->rules = grown;
            }
            s->rules[s->n++] = r;
        }
    }
    fclose(f);
    if (bad) {
        tl_supp_free(s);
        return NULL;
    }
    return s;
}

void tl_supp_free(struct tl_suppressions *s)
{
    if (s) {
        free(s->rules);
        free(s);
    }
}

size_t tl_supp_count(const struct tl_suppressions *s)
{
    return s ? s->n : 0;
}

static int matches(const char *pattern, const char *name)
{
    if (!name)
        return 0;
    if (fnmatch(pattern, name, 0) == 0)
        return 1;
    const char *base = strrchr(name, '/'); /* a module also matches by its file name */
    return base && fnmatch(pattern, base + 1, 0) == 0;
}

int tl_supp_match(const struct tl_suppressions *s, const char *kind,
                  const char *const *functions, const char *const *modules, size_t nframes)
{
    if (!s || !kind)
        return 0;
    for (size_t r = 0; r < s->n; r++) {
        if (strcmp(s->rules[r].kind, kind) != 0)
            continue;
        for (size_t i = 0; i < nframes; i++)
            if (matches(s->rules[r].pattern, functions[i]) ||
                matches(s->rules[r].pattern, modules[i]))
                return 1;
    }
    return 0;
}
