/*
 * proc_maps.c - parse /proc/PID/maps line by line.
 */
#include "proc_maps.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The part of zPath after its last '/'. Can't fail. */
const char *tl_path_base(const char *zPath)
{
    const char *zSlash = strrchr(zPath, '/');
    return zSlash != NULL ? zSlash + 1 : zPath;
}

/* Parse one maps line into p (p->zPath points into zLine). Returns 0 or -EINVAL. */
static int line_parse(char *zLine, struct tl_map *p)
{
    int nPath = 0;
    if (sscanf(zLine, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %*s %*s %n", &p->start, &p->end,
               p->aPerm, &p->offset, &nPath) < 4 ||
        nPath == 0) {
        return -EINVAL;
    }
    char *zPath = zLine + nPath;
    zPath[strcspn(zPath, "\n")] = '\0';
    p->zPath = zPath;
    return 0;
}

/*
 * Call xFn for every mapping of pid, in address order. Returns what xFn
 * returned when it stopped the walk, 0 at the end, or -errno when the maps
 * file cannot be opened (-ENOENT: no such process).
 */
int tl_maps_each(pid_t pid, tl_map_fn xFn, void *pCtx)
{
    char zFile[64];
    snprintf(zFile, sizeof(zFile), "/proc/%ld/maps", (long)pid);
    FILE *pIn = fopen(zFile, "re");
    if (pIn == NULL) {
        return -errno;
    }
    char zLine[4096 + 128];
    int rc = 0;
    while (rc == 0 && fgets(zLine, sizeof(zLine), pIn) != NULL) {
        struct tl_map map;
        if (line_parse(zLine, &map) == 0) {
            rc = xFn(&map, pCtx);
        }
    }
    fclose(pIn);
    return rc;
}
