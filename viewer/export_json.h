/*
 * export_json.h - threadlens-top --json: a loaded run as one JSON document.
 * The key names and their meaning are a public interface (DESIGN.md); adding
 * a key is compatible, renaming or removing one bumps TL_JSON_FORMAT_VERSION,
 * which is the document's "version". Reads only the struct tl_run.
 */
#ifndef TL_EXPORT_JSON_H
#define TL_EXPORT_JSON_H

#include <stdio.h>

#include "load.h"

#define TL_JSON_FORMAT_VERSION 1

void tl_export_json(FILE *out, const struct tl_run *run);

#endif
