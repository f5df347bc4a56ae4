/* export.h - marks the interposed symbols: the agent is built -fvisibility=hidden. */
#ifndef TL_EXPORT_H
#define TL_EXPORT_H

#define TL_EXPORT __attribute__((visibility("default")))

#endif
