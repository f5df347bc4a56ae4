/*
 * spark.h - sparklines: a series of values drawn as one row of block
 * characters (U+2581..U+2588) when the terminal speaks UTF-8, or of ASCII
 * characters otherwise. Pure functions, no state.
 */
#ifndef TL_SPARK_H
#define TL_SPARK_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"

void tl_spark(char *buf, size_t len, const struct tl_series *s, size_t width, bool utf8);

#endif
