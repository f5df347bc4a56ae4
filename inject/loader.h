/*
 * loader.h - load a library into a running process and call one of its
 * functions there, on a new thread: borrow a thread (thread_pick), map a
 * data block and a code page, start the loader stub with pthread_create,
 * give the thread back, then wait for the stub to report. Every failure is
 * printed (one line, "threadlens: ...") before returning. Used by `attach`
 * and `detach` from the tool's only thread; no state.
 */
#ifndef TL_LOADER_H
#define TL_LOADER_H

#include <stdint.h>

#include "proc_target.h"

#define TL_LOADER_DONE_MS 10000 /* longest wait for the stub to finish */

/* What to load and call. */
struct tl_loader_req {
    const char *zVerb;  /* "attach" or "detach", for messages */
    const char *zLib;   /* path to dlopen in the target */
    const char *zEntry; /* the function to call: int f(const char *) */
    const char *zArg;   /* its argument */
    int noLoad;         /* 1: RTLD_NOLOAD, use the library only if already loaded */
};

/* What the stub reported. */
struct tl_loader_out {
    int64_t result;    /* the function's return value, or TL_STUB_E* */
    char zError[512];  /* dlerror() text when result is TL_STUB_E* */
};

int tl_loader_run(const struct tl_target *pT, const struct tl_loader_req *pReq,
                  struct tl_loader_out *pOut);

#endif
