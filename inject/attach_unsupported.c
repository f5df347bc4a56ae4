/*
 * attach_unsupported.c - `attach` and `detach` where the injector has no
 * port (it knows x86-64 registers and code only).
 */
#include "attach.h"

#define TL_EXIT_FAIL 1

void tl_attach_usage(FILE *pOut)
{
    fprintf(pOut, "usage: threadlens attach [--db FILE] [-o key=value ...] PID\n"
                  "       threadlens detach PID\n"
                  "(not supported on this architecture)\n");
}

static int unsupported(const char *zCmd)
{
    fprintf(stderr, "threadlens %s: not supported on this architecture\n", zCmd);
    return TL_EXIT_FAIL;
}

int tl_attach_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return unsupported("attach");
}

int tl_detach_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return unsupported("detach");
}
