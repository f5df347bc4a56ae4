/*
 * agent_path.h - where the launcher finds libthreadlens.so. Used by `run` in
 * the launcher's only thread; no state. The build tree mirrors the install
 * tree (bin/threadlens next to lib/libthreadlens.so), so one rule covers both:
 * $THREADLENS_AGENT if set, else <dir of /proc/self/exe>/../lib.
 */
#ifndef TL_AGENT_PATH_H
#define TL_AGENT_PATH_H

#include <stddef.h>

int tl_agent_path_find(char *zOut, size_t nOut, char *zTried, size_t nTried);

#endif
