/* errors.h - internal return codes: 0 or a negative TL_E* (libuv style). */
#ifndef TL_ERRORS_H
#define TL_ERRORS_H

#include <errno.h>

#define TL_ENOMEM (-ENOMEM)
#define TL_EFULL (-ENOSPC)     /* a fixed-size table or queue is full */
#define TL_EDISABLED (-EPERM)  /* the agent or a detector is switched off */
#define TL_EINVAL (-EINVAL)
#define TL_EIO (-EIO)

#endif
