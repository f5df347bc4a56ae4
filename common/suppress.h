/*
 * suppress.h - suppression files, shared by the agent (suppressions=FILE)
 * and threadlens-top (--suppressions FILE). One `kind:pattern` per line, `#`
 * comments, blank lines ignored; the kind is a finding kind (`leak` is
 * accepted for memory-leak, as in LSan files) and the pattern, with `*`
 * wildcards, is matched against the function and the module (full path or
 * file name) of every frame of the finding's stacks. Plain data after
 * loading: any thread may match; loading allocates with malloc.
 */
#ifndef TL_SUPPRESS_H
#define TL_SUPPRESS_H

#include <stddef.h>

struct tl_suppressions;

/*
 * Loads `path`. Returns the rules, or NULL with a message in `err` (a file
 * that cannot be read, a line that is not kind:pattern, an unknown kind).
 */
struct tl_suppressions *tl_supp_load(const char *path, char *err, size_t errsize);
void tl_supp_free(struct tl_suppressions *s);
size_t tl_supp_count(const struct tl_suppressions *s);
/*
 * Whether a finding of `kind` whose frames have these functions and modules
 * (NULL entries skipped) is suppressed. Can't fail.
 */
int tl_supp_match(const struct tl_suppressions *s, const char *kind,
                  const char *const *functions, const char *const *modules, size_t nframes);

#endif
