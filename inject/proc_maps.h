/*
 * proc_maps.h - walk /proc/PID/maps of a target process. Used by `attach`
 * from the tool's only thread; no state.
 */
#ifndef TL_PROC_MAPS_H
#define TL_PROC_MAPS_H

#include <stdint.h>
#include <sys/types.h>

/* One line of /proc/PID/maps. */
struct tl_map {
    uint64_t start;    /* first address */
    uint64_t end;      /* one past the last address */
    uint64_t offset;   /* file offset of start */
    char aPerm[5];     /* "r-xp" etc. */
    const char *zPath; /* file or pseudo-name ("[stack]"), "" for anonymous */
};

/* Called per mapping; returning non-zero stops the walk with that value. */
typedef int (*tl_map_fn)(const struct tl_map *pMap, void *pCtx);

int tl_maps_each(pid_t pid, tl_map_fn xFn, void *pCtx);
const char *tl_path_base(const char *zPath);

#endif
